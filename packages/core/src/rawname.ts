// File names that are not valid UTF-8 (written under a Latin-1 locale, say:
// `caf\xe9-20240305T0700Z.log`). Such a name is carried as a JS string in which
// each byte of an invalid UTF-8 sequence is the lone surrogate U+DC80 + (byte -
// 0x80), as Python 3's "surrogateescape": a valid name decodes to itself, the
// mapping is one-to-one and back, and lone surrogates never come out of a
// valid name, so nothing else can be mistaken for one. It is turned back into
// its bytes for every file-system call, and shown (logs, S3 keys) with each
// such byte as %XX. Pure, but for the two listings at the end.
import { promises as fs } from 'node:fs';
import path from 'node:path';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, each byte of an invalid sequence handed to `invalid`. */
function decode(bytes: Uint8Array, invalid: (byte: number) => string): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i += 1;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    let cp = need === 1 ? b & 0x1f : need === 2 ? b & 0x0f : b & 0x07;
    let ok = need > 0;
    for (let k = 1; ok && k <= need; k += 1) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      out += invalid(b);
      i += 1;
    }
  }
  return out;
}

/** The name a directory entry's bytes stand for (itself when they are valid UTF-8). */
export function nameFromBytes(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decode(bytes, (b) => String.fromCharCode(0xdc00 + b));
  }
}

/** A byte of an invalid sequence, carried in a name: a lone U+DC80..U+DCFF. */
const RAW_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g;
const HAS_RAW_BYTE = new RegExp(RAW_BYTE.source);

/** Whether a name holds bytes that are not UTF-8 (and so needs its bytes for the file system). */
export function hasRawBytes(name: string): boolean {
  return HAS_RAW_BYTE.test(name);
}

/** The bytes of a name, as on disk. */
export function nameBytes(name: string): Buffer {
  if (!hasRawBytes(name)) return Buffer.from(name, 'utf8');
  const chunks: Buffer[] = [];
  let last = 0;
  for (const m of name.matchAll(RAW_BYTE)) {
    chunks.push(Buffer.from(name.slice(last, m.index), 'utf8'), Buffer.of(m[0].charCodeAt(0) - 0xdc00));
    last = m.index + 1;
  }
  chunks.push(Buffer.from(name.slice(last), 'utf8'));
  return Buffer.concat(chunks);
}

/** A name for people and for S3 keys: each byte that is not UTF-8 as %XX (upper-case hex). */
export function displayName(name: string): string {
  return hasRawBytes(name)
    ? name.replace(RAW_BYTE, (c) => `%${(c.charCodeAt(0) - 0xdc00).toString(16).toUpperCase()}`)
    : name;
}

/** Bytes as text, each byte of an invalid UTF-8 sequence as %XX: what a rendered key or bucket becomes. */
export function bytesToDisplay(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decode(bytes, (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`);
  }
}

/** `dir/name` for a file-system call: a string path, or the path's bytes when the name is not UTF-8. */
export function namePath(dir: string, name: string): string | Buffer {
  if (!hasRawBytes(name)) return path.join(dir, name);
  return Buffer.concat([Buffer.from(path.join(dir, '/'), 'utf8'), nameBytes(name)]);
}

/** A directory entry: its name (see above) and its type, from the listing (lstat's: a link is no file). */
export interface NamedEntry {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
}

// Node decodes names as UTF-8 and puts U+FFFD where bytes do not decode; only
// then is the folder listed again as bytes, so the common case costs nothing.
const mayNotDecode = (names: string[]) => names.some((name) => name.includes('\uFFFD'));

/** The names in a directory, each as nameFromBytes gives it. */
export async function readdirNames(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir);
  if (!mayNotDecode(names)) return names;
  return (await fs.readdir(dir, { encoding: 'buffer' })).map(nameFromBytes);
}

/** The entries of a directory with their types, names as nameFromBytes gives them. */
export async function readdirEntries(dir: string): Promise<NamedEntry[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  if (!mayNotDecode(entries.map((entry) => entry.name))) return entries;
  return (await fs.readdir(dir, { withFileTypes: true, encoding: 'buffer' })).map((entry) => ({
    name: nameFromBytes(entry.name),
    isFile: () => entry.isFile(),
    isDirectory: () => entry.isDirectory(),
  }));
}
