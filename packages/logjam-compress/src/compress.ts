// Compressing one file without ever losing it: at every instant either the
// source or a complete, verified archive exists.
//
//   source --gzip--> archive/.logjam-compress.PID.RAND.tmp --fsync--> verify
//     --utimes--> link to archive/NAME.gz (never overwrites) --fsync dir--> delete source
import { constants, promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline as pipe, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { errorCode, formatLogName, fsyncDir, oneLine, parseLogName, removeIfExists, tempName, type Logger } from '@logjam/core';

/** Big reads keep the per-chunk overhead low; memory stays a few MiB per file whatever its size. */
const CHUNK = 1024 * 1024;

export const ARCHIVE_DIR = 'archive';
export const TEMP_TAG = 'logjam-compress';
/** Our temporary files: a dot-name holding no stamp, so never a log file. */
const TEMP_NAME = /^\.logjam-compress\.\d+\.[0-9a-f]+\.tmp$/;
/** The existing name plus 25 duplicate-timestamp names, as the Python tool. */
export const MAX_DUPLICATES = 25;

export interface CompressOptions {
  level: number;
  verify: boolean;
  log: Logger;
  /** Aborting rolls the work back: the temporary file goes, the source stays. */
  signal?: AbortSignal;
  /**
   * Test seam, not reachable from the command line: called with the
   * temporary file once written, before verification (the tests corrupt it
   * there, since nothing real can be made to corrupt zlib's output).
   */
  beforeVerify?: (tmp: string) => Promise<void>;
}

export type Outcome =
  /** Archived (possibly under a duplicate-timestamp name) and the source deleted. */
  | { kind: 'compressed'; archive: string; bytesIn: number; bytesOut: number; ms: number; duplicate: boolean }
  /** An archive with exactly the source's content already existed: the source was deleted. */
  | { kind: 'already-archived'; archive: string }
  /** The source changed while being compressed: kept, to be tried again on a later pass. */
  | { kind: 'changed'; detail: string }
  /** The source disappeared before we got to it. */
  | { kind: 'gone' }
  /** Stopped by the signal: rolled back. */
  | { kind: 'aborted' };

/** The archive names to try, in order: NAME.gz, then the Python tool's duplicate-timestamp names. */
export function archiveNames(name: string): string[] {
  const log = parseLogName(name);
  if (!log) throw new Error(`not a log file name: ${name}`);
  const names = [`${name}.gz`];
  for (let index = 0; index < MAX_DUPLICATES; index += 1) {
    const tag = index === 0 ? '' : `-${String(index).padStart(2, '0')}`;
    names.push(
      formatLogName({
        prefix: `${log.prefix}-logjam-compress-duplicate-timestamp${tag}`,
        stamp: log.stamp,
        suffix: log.suffix,
        extension: `${log.extension}.gz`,
      }),
    );
  }
  return names;
}

/** Removes temporary files left in archive/ by a run that was killed. Call with the directory's lock held. */
export async function removeLeftoverTemps(archiveDir: string, log: Logger): Promise<number> {
  let entries;
  try {
    entries = await fs.readdir(archiveDir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const entry of entries) {
    if (!entry.isFile() || !TEMP_NAME.test(entry.name)) continue;
    if (await removeIfExists(path.join(archiveDir, entry.name))) {
      removed += 1;
      log.info('removed a temporary file left by an interrupted run', { file: path.join(archiveDir, entry.name) });
    }
  }
  return removed;
}

/**
 * Reads a whole open file from its start, by positional reads on the handle.
 * Not a read stream on its fd: destroying one closes the fd, and we keep the
 * handle open for fstat and further reads; FileHandle.close() also waits for
 * a read in flight, so no read ever lands on a closed (or reused) fd.
 */
async function* readChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead < CHUNK ? buffer.subarray(0, bytesRead) : buffer;
  }
}

function readFrom(handle: FileHandle): Readable {
  return Readable.from(readChunks(handle), { objectMode: false, highWaterMark: CHUNK });
}

/** Appends to an open file through its handle (for the same reason: the handle outlives the stream). */
function writeTo(handle: FileHandle): Writable {
  return new Writable({
    highWaterMark: CHUNK,
    write(chunk: Buffer, _encoding, callback) {
      writeAll(handle, chunk).then(() => callback(), callback);
    },
  });
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

class SourceChanged extends Error {}

/** Compresses `logDir/name` into `logDir/archive/`, then deletes it. Throws on failure (the source is then kept). */
export async function compressFile(logDir: string, name: string, options: CompressOptions): Promise<Outcome> {
  const { log, signal } = options;
  const source = path.join(logDir, name);
  const archiveDir = path.join(logDir, ARCHIVE_DIR);
  const started = performance.now();

  let src: FileHandle;
  try {
    // O_NOFOLLOW: a symbolic link put in the file's place is never followed.
    // O_NONBLOCK: a FIFO put in its place (after the scan) does not block the
    // open forever; it is then refused as not a regular file. No effect on reads
    // of a regular file.
    src = await fs.open(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'gone' };
    throw error;
  }
  let tmp: string | undefined;
  try {
    const before = await src.stat();
    if (!before.isFile()) throw new Error(`${source} is not a regular file`);
    const candidates = archiveNames(name);

    // Where will it go? An existing archive with the same content means a
    // previous run died between publishing and deleting: finish its work.
    let slot = await findSlot(archiveDir, candidates, 0, src, options);
    if (slot.kind === 'identical') return await deleteSource(source, src, before, slot.archive, options);

    tmp = path.join(archiveDir, tempName(TEMP_TAG));
    const sum = await gzipTo(src, tmp, before, options);
    if (signal?.aborted) return { kind: 'aborted' };
    const after = await src.stat();
    if (after.size !== sum.length || !sameVersion(before, after)) {
      throw new SourceChanged(`size or mtime changed while compressing (${before.size} -> ${after.size} bytes)`);
    }
    await options.beforeVerify?.(tmp);
    if (options.verify) {
      const check = await checksumGzip(tmp, signal);
      if (signal?.aborted) return { kind: 'aborted' };
      if (check.length !== sum.length || check.crc !== sum.crc) {
        throw new Error(
          `verification failed: the archive decompresses to ${check.length} bytes (crc ${hex(check.crc)}), the source has ${sum.length} (crc ${hex(sum.crc)})`,
        );
      }
    }
    const bytesOut = (await fs.stat(tmp)).size;
    await assertUnchanged(source, src, before);

    // Publish without ever replacing an existing file: link() fails with EEXIST atomically.
    for (;;) {
      try {
        await fs.link(tmp, path.join(archiveDir, slot.name));
        break;
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      // Someone published that name meanwhile: look again from there.
      slot = await findSlot(archiveDir, candidates, candidates.indexOf(slot.name), src, options);
      if (slot.kind === 'identical') {
        await removeIfExists(tmp);
        tmp = undefined;
        return await deleteSource(source, src, before, slot.archive, options);
      }
    }
    await removeIfExists(tmp);
    tmp = undefined;
    await fsyncDir(archiveDir);
    const archive = path.join(ARCHIVE_DIR, slot.name);
    if (slot.name !== candidates[0]) {
      log.warn(`${ARCHIVE_DIR}/${candidates[0]} already exists with other content; archived under a duplicate-timestamp name`, {
        file: name,
        archive,
      });
    }

    // Changed after the archive was published? Keep the source: the next pass
    // archives it again under a duplicate-timestamp name, so nothing is lost.
    await assertUnchanged(source, src, before);
    await fs.unlink(source);
    await fsyncDir(logDir);
    return { kind: 'compressed', archive, bytesIn: sum.length, bytesOut, ms: Math.round(performance.now() - started), duplicate: slot.name !== candidates[0] };
  } catch (error) {
    if (error instanceof SourceChanged) return { kind: 'changed', detail: error.message };
    if (signal?.aborted && isAbort(error)) return { kind: 'aborted' };
    throw error;
  } finally {
    await src.close().catch(() => {});
    if (tmp) await fs.rm(tmp, { force: true }).catch(() => {});
  }
}

type Slot = { kind: 'free'; name: string } | { kind: 'identical'; archive: string };

async function findSlot(archiveDir: string, candidates: string[], from: number, src: FileHandle, options: CompressOptions): Promise<Slot> {
  for (let i = Math.max(0, from); i < candidates.length; i += 1) {
    const name = candidates[i]!;
    const file = path.join(archiveDir, name);
    const stats = await fs.lstat(file).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    });
    if (!stats) return { kind: 'free', name };
    if (stats.isFile() && (await sameContent(file, src, options))) return { kind: 'identical', archive: path.join(ARCHIVE_DIR, name) };
  }
  throw new Error(
    `${ARCHIVE_DIR}/${candidates[0]} and all ${MAX_DUPLICATES} duplicate-timestamp names exist with other content; the source is kept: reconcile ${ARCHIVE_DIR}/ by hand`,
  );
}

async function deleteSource(source: string, src: FileHandle, before: Stats, archive: string, options: CompressOptions): Promise<Outcome> {
  await assertUnchanged(source, src, before);
  await fs.unlink(source);
  await fsyncDir(path.dirname(source));
  options.log.info(`${archive} already holds exactly this file's content; deleted the source`, { file: path.basename(source), archive });
  return { kind: 'already-archived', archive };
}

function sameVersion(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** The open file has not changed, and the name still points at it. */
async function assertUnchanged(source: string, src: FileHandle, before: Stats): Promise<void> {
  const now = await src.stat();
  if (!sameVersion(before, now)) throw new SourceChanged(`size or mtime changed (${before.size} -> ${now.size} bytes)`);
  const named = await fs.lstat(source).catch(() => null);
  if (!named || named.ino !== before.ino || named.dev !== before.dev) throw new SourceChanged('the file was replaced or removed');
}

interface Checksum {
  length: number;
  crc: number;
}

/** A pass-through that counts bytes and computes their CRC-32. */
function checksummer(sum: Checksum): Transform {
  return new Transform({
    highWaterMark: CHUNK,
    transform(chunk: Buffer, _encoding, callback) {
      sum.length += chunk.length;
      sum.crc = crc32(chunk, sum.crc);
      callback(null, chunk);
    },
  });
}

async function gzipTo(src: FileHandle, tmp: string, before: Stats, options: CompressOptions): Promise<Checksum> {
  const sum: Checksum = { length: 0, crc: 0 };
  // 'wx': never reuse an existing file. Mode: the source's permissions (logs may be private).
  const out = await fs.open(tmp, 'wx', 0o600);
  try {
    await out.chmod(before.mode & 0o666);
    await pipeline(
      readFrom(src),
      checksummer(sum),
      zlib.createGzip({ level: options.level, chunkSize: 64 * 1024 }),
      writeTo(out),
      { signal: options.signal },
    );
    await out.sync();
    // The archive keeps the source's times; link() below preserves them.
    await out.utimes(before.atimeMs / 1000, before.mtimeMs / 1000);
    await out.sync();
  } finally {
    await out.close();
  }
  return sum;
}

/** Length and CRC-32 of what a gzip file decompresses to. */
async function checksumGzip(file: string, signal?: AbortSignal): Promise<Checksum> {
  const sum: Checksum = { length: 0, crc: 0 };
  const handle = await fs.open(file, 'r');
  try {
    await pipeline(
      readFrom(handle),
      zlib.createGunzip({ chunkSize: CHUNK }),
      checksummer(sum),
      new Writable({ highWaterMark: CHUNK, write: (_chunk, _encoding, callback) => callback() }),
      { signal },
    );
  } finally {
    await handle.close();
  }
  return sum;
}

/** Whether a gzip file decompresses to exactly the bytes of `src` (streamed: memory stays flat). An unreadable archive is not the same. */
async function sameContent(gzFile: string, src: FileHandle, options: CompressOptions): Promise<boolean> {
  let archive: FileHandle;
  try {
    archive = await fs.open(gzFile, 'r');
  } catch {
    return false;
  }
  // pipe() destroys both streams on an error, so the iterator below sees it.
  const decompressed = pipe(readFrom(archive), zlib.createGunzip({ chunkSize: CHUNK }), () => {});
  const original = readChunks(src);
  try {
    return await equalStreams(decompressed[Symbol.asyncIterator](), original, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    options.log.debug('could not read an existing archive; treating it as different', { archive: gzFile, error: oneLine(error) });
    return false;
  } finally {
    decompressed.destroy();
    await original.return(undefined).catch(() => {});
    await archive.close().catch(() => {});
  }
}

async function equalStreams(ia: AsyncIterator<unknown>, ib: AsyncIterator<unknown>, signal?: AbortSignal): Promise<boolean> {
  let bufA: Buffer = Buffer.alloc(0);
  let bufB: Buffer = Buffer.alloc(0);
  let doneA = false;
  let doneB = false;
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    if (bufA.length === 0 && !doneA) {
      const next = await ia.next();
      if (next.done) doneA = true;
      else bufA = next.value as Buffer;
    }
    if (bufB.length === 0 && !doneB) {
      const next = await ib.next();
      if (next.done) doneB = true;
      else bufB = next.value as Buffer;
    }
    if (bufA.length === 0 && bufB.length === 0) {
      if (doneA && doneB) return true;
      continue;
    }
    if (bufA.length === 0 || bufB.length === 0) {
      if ((bufA.length === 0 && doneA) || (bufB.length === 0 && doneB)) return false;
      continue;
    }
    const n = Math.min(bufA.length, bufB.length);
    if (bufA.compare(bufB, 0, n, 0, n) !== 0) return false;
    bufA = bufA.subarray(n);
    bufB = bufB.subarray(n);
  }
}

function isAbort(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'AbortError' || errorCode(error) === 'ABORT_ERR';
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

// zlib.crc32 is in every Node this supports (>= 20.15); the table is a fallback for odd builds.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function crc32(data: Uint8Array, value = 0): number {
  return nativeCrc32 ? nativeCrc32(data, value) : crc32Portable(data, value);
}

let table: Uint32Array | undefined;
export function crc32Portable(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~value >>> 0;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
