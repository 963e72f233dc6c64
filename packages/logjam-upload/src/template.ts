// The URI template: s3://BUCKET/KEY-TEMPLATE with {field}s filled in from the
// archived file's name. Pure: no I/O, no network. Every mistake is found by
// parseTemplate, before anything else happens, and its message points at it.
import { displayName, formatLogName, parseLogName, UsageError, type LogName } from '@logjam/core';
import { renderField, renderParts } from './template-render.js';

export {
  MANDATORY_FIELDS,
  OPTIONAL_FIELDS,
  type Field,
  type Part,
  type Template,
  type FieldValues,
} from './template-fields.js';
import {
  ALL_FIELDS,
  MANDATORY_FIELDS,
  type Field,
  type FieldValues,
  type Part,
  type Template,
} from './template-fields.js';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

function fail(source: string, problem: string): never {
  throw new UsageError(`bad URI template '${source}': ${problem}`);
}

/**
 * Splits a template into text and fields as Python's str.format reads it:
 * `{{` and `}}` are literal braces, `{name!c:spec}` a field.
 */
function parseParts(source: string, text: string, offset: number): Part[] {
  const parts: Part[] = [];
  let literal = '';
  const at = (i: number) => `at character ${offset + i + 1} ('${context(source, offset + i)}')`;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '}') {
      if (text[i + 1] !== '}')
        fail(source, `unbalanced '}' ${at(i)}: no '{' opens it (write '}}' for a literal brace)`);
      literal += '}';
      i += 1;
      continue;
    }
    if (c !== '{') {
      literal += c;
      continue;
    }
    if (text[i + 1] === '{') {
      literal += '{';
      i += 1;
      continue;
    }
    const close = text.indexOf('}', i + 1);
    const reopen = text.indexOf('{', i + 1);
    if (close === -1) fail(source, `unbalanced '{' ${at(i)}: it is never closed (write '{{' for a literal brace)`);
    if (reopen !== -1 && reopen < close)
      fail(
        source,
        `unbalanced '{' ${at(i)}: a '{' opens again before the '}' (fields inside a format spec are not supported)`,
      );
    const m = /^([^!:]*)(?:!(.?))?(?::(.*))?$/s.exec(text.slice(i + 1, close))!;
    const [, name, conversion, spec] = m as unknown as [string, string, string | undefined, string | undefined];
    if (!ALL_FIELDS.includes(name)) {
      const why = /[.[]/.test(name) ? ' (attribute and index lookups are not supported)' : '';
      fail(
        source,
        `unknown field '{${name}}' at character ${offset + i + 1}${why}; the fields are ${ALL_FIELDS.map((f) => `{${f}}`).join(' ')}`,
      );
    }
    if (conversion !== undefined && conversion !== 's' && conversion !== 'r')
      fail(
        source,
        `field '{${text.slice(i + 1, close)}}' at character ${offset + i + 1}: the conversion must be !s or !r`,
      );
    if (literal) parts.push({ text: literal });
    literal = '';
    parts.push({ field: name as Field, conversion: conversion ?? '', spec: spec ?? '' });
    i = close;
  }
  if (literal) parts.push({ text: literal });
  return parts;
}

/** The values Python's check_uri rendered the template with at start (its SAMPLE_LOGFILE). */
const SAMPLE = parseLogName('haproxy-20130727T1300Z-i-3949aea.log')!;

/** Parses and checks `s3://BUCKET/KEY-TEMPLATE`; throws a UsageError (exit 2) naming the problem. */
export function parseTemplate(source: string): Template {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(source);
  if (!scheme) fail(source, "it must start with 's3://' (s3://BUCKET/KEY-TEMPLATE)");
  if (scheme[1]!.toLowerCase() !== 's3') fail(source, `the scheme must be 's3://', not '${scheme[0]}'`);
  const all = parseParts(source, source.slice(scheme[0].length), scheme[0].length);
  // The bucket ends at the first literal '/'.
  const split = all.findIndex((p) => 'text' in p && p.text.includes('/'));
  const bucketParts: Part[] = split === -1 ? all : all.slice(0, split);
  const parts: Part[] = split === -1 ? [] : all.slice(split + 1);
  if (split !== -1) {
    const text = (all[split] as { text: string }).text;
    const slash = text.indexOf('/');
    if (slash > 0) bucketParts.push({ text: text.slice(0, slash) });
    if (slash < text.length - 1) parts.unshift({ text: text.slice(slash + 1) });
  }
  if (bucketParts.length === 0) fail(source, 'the bucket name is empty (s3://BUCKET/KEY-TEMPLATE)');
  const literalBucket = bucketParts.every((p) => 'text' in p)
    ? bucketParts.map((p) => ('text' in p ? p.text : '')).join('')
    : undefined;
  if (literalBucket !== undefined && !isBucketName(literalBucket))
    fail(
      source,
      `'${literalBucket}' is not a valid bucket name (3 to 255 letters, digits, '.', '-', '_', starting and ending with a letter or digit)`,
    );
  if (parts.length === 0) {
    fail(
      source,
      `the key template after the bucket is empty; it needs at least ${MANDATORY_FIELDS.map((f) => `{${f}}`).join(', ')}`,
    );
  }

  checkKeyFolders(source, parts);

  const used = new Set([...bucketParts, ...parts].flatMap((p) => ('field' in p ? [p.field] : [])));
  const missing = MANDATORY_FIELDS.filter((f) => !used.has(f));
  if (missing.length)
    fail(source, `missing mandatory field${missing.length > 1 ? 's' : ''} ${missing.map((f) => `{${f}}`).join(', ')}`);
  checkFieldsRender(source, bucketParts, parts);
  return { source, bucketParts, parts };
}

/**
 * The key's literal folders: no leading '/', no '//', no '.' or '..' folder
 * (a field counts as non-empty here; an empty one is dropped at render time).
 */
function checkKeyFolders(source: string, parts: readonly Part[]): void {
  const segments = parts
    .map((p) => ('text' in p ? p.text : 'F'))
    .join('')
    .split('/');
  if (segments[0] === '')
    fail(source, "the key cannot start with '/' (s3://BUCKET/KEY-TEMPLATE, one slash after the bucket)");
  if (segments.slice(1).some((s) => s === '')) fail(source, "the key cannot hold '//' or end with '/'");
  if (segments.some((s) => s === '.' || s === '..')) fail(source, "the key cannot hold a '.' or '..' folder");
}

/** A format spec Python refuses (`{prefix:d}`) is found now, as Python's start-up check found it. */
function checkFieldsRender(source: string, bucketParts: readonly Part[], parts: readonly Part[]): void {
  for (const p of [...bucketParts, ...parts]) {
    if (!('field' in p)) continue;
    try {
      if (renderField(p, fieldValues(SAMPLE, 'host')).includes('/') && parts.includes(p))
        throw new Error("it renders a '/', which would make folders of its own");
    } catch (error) {
      fail(
        source,
        `field '{${p.field}${p.conversion ? `!${p.conversion}` : ''}${p.spec ? `:${p.spec}` : ''}}': ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/**
 * A bucket name as the Python tool (boto 2) accepted it: 3 to 255 letters,
 * digits, '.', '-' and '_', starting and ending with a letter or digit, no run
 * of 64 lower-case DNS characters (one DNS label's limit).
 */
export function isBucketName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,253}[a-zA-Z0-9]$/.test(name) && !/[-_a-z0-9]{64}/.test(name);
}

/** A few characters around position `at`, for pointing at a mistake in one line. */
function context(source: string, at: number): string {
  return `${at > 6 ? '…' : ''}${source.slice(Math.max(0, at - 6), at + 7)}${at + 7 < source.length ? '…' : ''}`;
}

/** The bucket a file goes to; throws (a per-file failure) when the rendered name is not a valid bucket name. */
export function renderBucket(template: Template, values: FieldValues): string {
  const bucket = renderParts(template.bucketParts, values);
  if (!isBucketName(bucket))
    throw new Error(
      `the bucket name rendered for ${displayName(values.filename)}, '${bucket}', is not a valid bucket name (3 to 255 letters, digits, '.', '-', '_', starting and ending with a letter or digit)`,
    );
  return bucket;
}

/** The bucket when the template's bucket holds no field, else undefined. */
export function fixedBucket(template: Template): string | undefined {
  return template.bucketParts.every((p) => 'text' in p)
    ? template.bucketParts.map((p) => ('text' in p ? p.text : '')).join('')
    : undefined;
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
  const name = displayName(values.filename);
  const rendered = renderParts(template.parts, values, (field, text) => {
    if (text.includes('/')) throw new Error(`{${field}} of ${name} renders a '/'; refusing to render a key from it`);
  });
  const segments = rendered.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..'))
    throw new Error(`the key rendered for ${name} would hold a '.' or '..' folder; refusing it`);
  const key = segments.join('/');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES)
    throw new Error(`the key rendered for ${name} is longer than ${MAX_KEY_BYTES} bytes`);
  return key;
}

export function renderUri(template: Template, values: FieldValues): string {
  return s3Uri(renderBucket(template, values), renderKey(template, values));
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

/** The folder every key of the template is in: its text before the first field, up to the last '/' ('' when none). */
export function fixedFolder(template: Template): string {
  let text = '';
  for (const part of template.parts) {
    if (!('text' in part)) break;
    text += part.text;
  }
  return text.slice(0, text.lastIndexOf('/') + 1);
}
