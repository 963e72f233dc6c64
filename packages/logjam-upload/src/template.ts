// The URI template: s3://BUCKET/KEY-TEMPLATE with {field}s filled in from the
// archived file's name. Pure: no I/O, no network. Every mistake is found by
// parseTemplate, before anything else happens, and its message points at it.
import { formatLogName, UsageError, type LogName } from '@logjam/core';

export const MANDATORY_FIELDS = ['prefix', 'year', 'month', 'day', 'filename'] as const;
export const OPTIONAL_FIELDS = ['hour', 'minute', 'suffix', 'extension', 'hostname'] as const;
export type Field = (typeof MANDATORY_FIELDS)[number] | (typeof OPTIONAL_FIELDS)[number];
const ALL_FIELDS: readonly string[] = [...MANDATORY_FIELDS, ...OPTIONAL_FIELDS];

export type Part = { text: string } | { field: Field };

export interface Template {
  /** The template as given. */
  readonly source: string;
  readonly bucket: string;
  /** The key template, split into literal text and fields. */
  readonly parts: readonly Part[];
}

export type FieldValues = Record<Field, string>;

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

function fail(source: string, problem: string): never {
  throw new UsageError(`bad URI template '${source}': ${problem}`);
}

/** Parses and checks `s3://BUCKET/KEY-TEMPLATE`; throws a UsageError (exit 2) naming the problem. */
export function parseTemplate(source: string): Template {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(source);
  if (!scheme) fail(source, "it must start with 's3://' (s3://BUCKET/KEY-TEMPLATE)");
  if (scheme[1] !== 's3') fail(source, `the scheme must be 's3://', not '${scheme[0]}'`);
  const rest = source.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (bucket === '') fail(source, 'the bucket name is empty (s3://BUCKET/KEY-TEMPLATE)');
  if (/[{}]/.test(bucket)) fail(source, `the bucket name '${bucket}' cannot hold fields or braces`);
  if (!/^[A-Za-z0-9._-]+$/.test(bucket)) fail(source, `'${bucket}' is not a valid bucket name (letters, digits, '.', '-', '_')`);
  if (slash === -1 || slash === rest.length - 1) {
    fail(source, `the key template after 's3://${bucket}/' is empty; it needs at least ${MANDATORY_FIELDS.map((f) => `{${f}}`).join(', ')}`);
  }
  const keySource = rest.slice(slash + 1);
  const offset = scheme[0].length + slash + 1;

  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < keySource.length; i += 1) {
    const c = keySource[i]!;
    if (c === '}') fail(source, `unbalanced '}' at character ${offset + i + 1} ('${context(source, offset + i)}'): no '{' opens it`);
    if (c !== '{') {
      text += c;
      continue;
    }
    const close = keySource.indexOf('}', i + 1);
    const reopen = keySource.indexOf('{', i + 1);
    if (close === -1) fail(source, `unbalanced '{' at character ${offset + i + 1} ('${context(source, offset + i)}'): it is never closed`);
    if (reopen !== -1 && reopen < close) {
      fail(source, `unbalanced '{' at character ${offset + i + 1} ('${context(source, offset + i)}'): a '{' opens again before the '}'`);
    }
    const name = keySource.slice(i + 1, close);
    if (!ALL_FIELDS.includes(name)) {
      fail(source, `unknown field '{${name}}' at character ${offset + i + 1}; the fields are ${ALL_FIELDS.map((f) => `{${f}}`).join(' ')}`);
    }
    if (text) parts.push({ text });
    text = '';
    parts.push({ field: name as Field });
    i = close;
  }
  if (text) parts.push({ text });

  // The key's literal folders: no leading '/', no '//', no '.' or '..' folder
  // (a field counts as non-empty here; an empty one is dropped at render time).
  const segments = parts.map((p) => ('text' in p ? p.text : 'F')).join('').split('/');
  if (segments[0] === '') fail(source, "the key cannot start with '/' (s3://BUCKET/KEY-TEMPLATE, one slash after the bucket)");
  if (segments.slice(1).some((s) => s === '')) fail(source, "the key cannot hold '//' or end with '/'");
  if (segments.some((s) => s === '.' || s === '..')) fail(source, "the key cannot hold a '.' or '..' folder");

  const used = new Set(parts.flatMap((p) => ('field' in p ? [p.field] : [])));
  const missing = MANDATORY_FIELDS.filter((f) => !used.has(f));
  if (missing.length) fail(source, `missing mandatory field${missing.length > 1 ? 's' : ''} ${missing.map((f) => `{${f}}`).join(', ')}`);
  return { source, bucket, parts };
}

/** A few characters around position `at`, for pointing at a mistake in one line. */
function context(source: string, at: number): string {
  return `${at > 6 ? '…' : ''}${source.slice(Math.max(0, at - 6), at + 7)}${at + 7 < source.length ? '…' : ''}`;
}

/** The field values for an archived file; everything comes from the name's UTC stamp. */
export function fieldValues(log: LogName, hostname: string): FieldValues {
  return {
    prefix: log.prefix,
    year: log.year,
    month: log.month,
    day: log.day,
    hour: log.hour,
    minute: log.minute,
    filename: log.name,
    suffix: log.suffix,
    extension: log.extension,
    hostname: shortHostname(hostname),
  };
}

/** The host's short name: up to the first dot. */
export function shortHostname(hostname: string): string {
  return hostname.split('.')[0] ?? hostname;
}

/**
 * Renders the key; throws (a per-file failure, not a usage error) when it is
 * too long for S3 or would leave its prefix. The key always stays inside the
 * template's literal prefix: a field that renders empty ({suffix} of a name
 * without one) drops its folder rather than making a '//'; a field holding a
 * '/' or rendering a '.' or '..' folder is refused.
 */
export function renderKey(template: Template, values: FieldValues): string {
  for (const p of template.parts) {
    if ('field' in p && values[p.field].includes('/')) throw new Error(`{${p.field}} of ${values.filename} holds a '/'; refusing to render a key from it`);
  }
  const segments = template.parts
    .map((p) => ('text' in p ? p.text : values[p.field]))
    .join('')
    .split('/')
    .filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw new Error(`the key rendered for ${values.filename} would hold a '.' or '..' folder; refusing it`);
  const key = segments.join('/');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new Error(`the key rendered for ${values.filename} is longer than ${MAX_KEY_BYTES} bytes`);
  return key;
}

export function renderUri(template: Template, values: FieldValues): string {
  return s3Uri(template.bucket, renderKey(template, values));
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/**
 * The name an archive takes when a different object already holds its key:
 * PREFIX-logjam-upload-conflict-NN-STAMP[-SUFFIX]EXT, NN from 01 (as compress's duplicates).
 */
export function conflictName(log: LogName, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 99) throw new RangeError(`conflict number ${n} is not in 1..99`);
  return formatLogName({
    prefix: `${log.prefix}-logjam-upload-conflict-${String(n).padStart(2, '0')}`,
    stamp: log.stamp,
    suffix: log.suffix,
    extension: log.extension,
  });
}

/** The field values for conflict number n: the same as the file's, with the conflict name as {filename}. */
export function conflictValues(log: LogName, hostname: string, n: number): FieldValues {
  return { ...fieldValues(log, hostname), filename: conflictName(log, n) };
}
