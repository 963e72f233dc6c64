// Fuzzing (fast-check) of the file-name grammar and the URI template:
// parseLogName against an independent reference checker written from the
// grammar in docs/file-names.md, parse/format round trips, and rendered keys that never
// leave their prefix. Seeded and bounded; SOAK=1 runs 20 times more, and
// FUZZ_SEED=N replays another seed.
import { expect } from 'chai';
import fc from 'fast-check';
import { formatLogName, parseLogName, UsageError, type LogName } from '@logjam/core';
import {
  conflictValues,
  fieldValues,
  parseTemplate,
  renderKey,
  type Template,
} from '../../packages/logjam-upload/src/template.ts';

const SOAK = process.env.SOAK === '1';
const seed = Number(process.env.FUZZ_SEED ?? 20240105);
const runs = (n: number) => ({ seed, numRuns: SOAK ? n * 20 : n });

// ---------------------------------------------------------------------------
// The reference: docs/file-names.md, by hand, no regular expression.
//   PREFIX-STAMP[-SUFFIX].EXTENSION; PREFIX non-empty and greedy (the last
//   stamp counts); STAMP YYYY[-]MM[-]DDTHH[:]MMZ, a real UTC date and time;
//   SUFFIX non-empty, after a dash, to the first dot; EXTENSION from that dot
//   to the end, something after the dot. Never a log file: a name holding a
//   line break, starting with a dot, or ending in .tmp or ~.
// ---------------------------------------------------------------------------
interface RefName {
  prefix: string;
  stamp: string;
  suffix: string;
  extension: string;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const LINE_BREAKS = ['\n', '\r', '\u2028', '\u2029'];

/** Reads a stamp at `at`: its end and compact form, or null. */
function readStamp(
  s: string,
  at: number,
): { end: number; compact: string; y: number; mo: number; d: number; h: number; mi: number } | null {
  let i = at;
  const digits = (n: number) => {
    let out = '';
    for (let k = 0; k < n; k += 1) {
      if (!isDigit(s[i])) return null;
      out += s[i];
      i += 1;
    }
    return out;
  };
  const optional = (c: string) => {
    if (s[i] === c) i += 1;
  };
  const y = digits(4);
  if (y === null) return null;
  optional('-');
  const mo = digits(2);
  if (mo === null) return null;
  optional('-');
  const d = digits(2);
  if (d === null) return null;
  if (s[i] !== 'T') return null;
  i += 1;
  const h = digits(2);
  if (h === null) return null;
  optional(':');
  const mi = digits(2);
  if (mi === null) return null;
  if (s[i] !== 'Z') return null;
  i += 1;
  return { end: i, compact: `${y}${mo}${d}T${h}${mi}Z`, y: +y, mo: +mo, d: +d, h: +h, mi: +mi };
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** What follows the stamp: [-SUFFIX].EXTENSION to the end of the name. */
function readTail(s: string, at: number): { suffix: string; extension: string } | null {
  let suffix = '';
  let i = at;
  if (s[i] === '-') {
    const dot = s.indexOf('.', i + 1);
    if (dot === -1 || dot === i + 1) return null;
    suffix = s.slice(i + 1, dot);
    i = dot;
  }
  if (s[i] !== '.' || i + 1 >= s.length) return null;
  return { suffix, extension: s.slice(i) };
}

function reference(name: string): RefName | null {
  if (LINE_BREAKS.some((c) => name.includes(c))) return null;
  if (name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('~')) return null;
  // Greedy prefix: the last dash after which a whole STAMP[-SUFFIX].EXTENSION fits.
  for (let dash = name.length - 1; dash >= 1; dash -= 1) {
    if (name[dash] !== '-') continue;
    const stamp = readStamp(name, dash + 1);
    if (!stamp) continue;
    const tail = readTail(name, stamp.end);
    if (!tail) continue;
    // The structure is decided here; an impossible date rejects the name (no earlier stamp is tried).
    const valid =
      stamp.mo >= 1 &&
      stamp.mo <= 12 &&
      stamp.d >= 1 &&
      stamp.d <= daysIn(stamp.y, stamp.mo) &&
      stamp.h <= 23 &&
      stamp.mi <= 59;
    return valid ? { prefix: name.slice(0, dash), stamp: stamp.compact, ...tail } : null;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Generators: names built from pieces that often almost match the grammar.
// ---------------------------------------------------------------------------
const piece = fc.constantFrom(
  '-',
  '.',
  'T',
  'Z',
  ':',
  '0',
  '1',
  '2',
  '9',
  '00',
  '12',
  '13',
  '23',
  '24',
  '29',
  '30',
  '31',
  '59',
  '60',
  '2024',
  '2023',
  '1900',
  '2000',
  '0000',
  '20240229',
  '20230229',
  '20240101T0000Z',
  '2024-01-01T00:00Z',
  '20241301T0000Z',
  'app',
  'haproxy',
  'i-ae23fega',
  'us-west-2',
  'log',
  '.log',
  '.gz',
  '.log.gz',
  '.tmp',
  '~',
  ' ',
  'é',
  '日本',
  '🚀',
  '\n',
  '\r',
  '/',
  '..',
);
const stampish = fc.constantFrom(
  '20240101T0000Z',
  '2024-01-01T00:00Z',
  '2024-0101T00:00Z',
  '20240229T2359Z',
  '20230229T0000Z',
  '20241301T0000Z',
  '20240101T2400Z',
  '20240101T0060Z',
  '20240101T0000',
  '2024011T0000Z',
);
const joined = (max: number) => fc.array(piece, { maxLength: max }).map((parts) => parts.join(''));
/** PREFIX-STAMP[-SUFFIX].EXTENSION with every part drawn from near misses. */
const nearMiss = fc
  .tuple(
    joined(4),
    fc.constantFrom('-', '', '_'),
    stampish,
    fc.constantFrom('', '-', '-'),
    joined(3),
    fc.constantFrom('.', '', '..'),
    joined(3),
  )
  .map((parts) => parts.join(''));
const nameArb = fc.oneof(
  { weight: 3, arbitrary: fc.array(piece, { maxLength: 12 }).map((parts) => parts.join('')) },
  { weight: 4, arbitrary: nearMiss },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

const two = (max: number, min = 0) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'));
const validParts = fc
  .record({
    prefix: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_ -]{0,15}$/),
    // Year 0 is no date (the Python tool refused it too).
    year: fc.integer({ min: 1, max: 9999 }).map((n) => String(n).padStart(4, '0')),
    month: two(12, 1),
    day: two(28, 1),
    hour: two(23),
    minute: two(59),
    dashes: fc.boolean(),
    colon: fc.boolean(),
    suffix: fc.option(fc.stringMatching(/^[a-z][a-z_ -]{0,12}$/), { nil: undefined }),
    extension: fc.stringMatching(/^\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,2}$/),
  })
  .filter((p) => !p.extension.endsWith('.tmp') && !(p.suffix ?? '').endsWith('-'));

function written(p: {
  prefix: string;
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  dashes: boolean;
  colon: boolean;
  suffix?: string | undefined;
  extension: string;
}): string {
  const d = p.dashes ? '-' : '';
  const stamp = `${p.year}${d}${p.month}${d}${p.day}T${p.hour}${p.colon ? ':' : ''}${p.minute}Z`;
  return `${p.prefix}-${stamp}${p.suffix ? `-${p.suffix}` : ''}${p.extension}`;
}

/**
 * Well-formed names given what must make a name no log file, or must not:
 * a line break (\n, \r, U+2028, U+2029) anywhere, the suffix above all (the
 * only part whose character class could let one through); a `~` or `.tmp`
 * ending; a leading dot; U+FFFD and lone surrogates (what a non-UTF-8 name
 * read from disk becomes). Uniform strings almost never hit these.
 */
const HAZARDS = ['\n', '\r', '\u2028', '\u2029', '~', '.tmp', '.', '\ufffd', '\ud800', '\udfff', ' '];
const hazard = fc.constantFrom(...HAZARDS);
const hazardous = fc.oneof(
  // In the suffix: PREFIX-STAMP-AxB.EXT.
  fc
    .tuple(validParts, fc.stringMatching(/^[a-z]{1,4}$/), hazard, fc.stringMatching(/^[a-z]{0,4}$/))
    .map(([p, a, h, b]) => written({ ...p, suffix: `${a}${h}${b}` })),
  // At the end (a backup, a temporary file) or the start (hidden).
  fc.tuple(validParts, hazard).map(([p, h]) => `${written(p)}${h}`),
  fc.tuple(validParts, hazard).map(([p, h]) => `${h}${written(p)}`),
  // Anywhere.
  fc.tuple(validParts, hazard, fc.nat()).map(([p, h, at]) => {
    const name = written(p);
    const i = at % (name.length + 1);
    return `${name.slice(0, i)}${h}${name.slice(i)}`;
  }),
);

function view(log: LogName | null): RefName | null {
  return log && { prefix: log.prefix, stamp: log.stamp, suffix: log.suffix, extension: log.extension };
}

describe('reliability: fuzzing the file-name grammar and the URI template (fast-check)', function () {
  this.timeout(120_000);

  describe('parseLogName', () => {
    it('never throws, and accepts exactly the names the README grammar accepts, with the same parts', () => {
      fc.assert(
        fc.property(fc.oneof({ weight: 2, arbitrary: nameArb }, { weight: 1, arbitrary: hazardous }), (name) => {
          expect(view(parseLogName(name)), JSON.stringify(name)).to.deep.equal(reference(name));
        }),
        runs(3000),
      );
    });

    it('reads back every well-formed name it is given, whatever the stamp spelling', () => {
      fc.assert(
        fc.property(validParts, (p) => {
          const name = written(p);
          const log = parseLogName(name);
          expect(log, name).to.not.equal(null);
          expect(log!.prefix).to.equal(p.prefix);
          expect(log!.stamp).to.equal(`${p.year}${p.month}${p.day}T${p.hour}${p.minute}Z`);
          expect(log!.suffix).to.equal(p.suffix ?? '');
          expect(log!.extension).to.equal(p.extension);
          expect(reference(name)).to.deep.equal(view(log));
        }),
        runs(2000),
      );
    });

    it('parse then format round trips: the compact name parses to the same parts', () => {
      fc.assert(
        fc.property(fc.oneof(nameArb, validParts.map(written)), (name) => {
          const log = parseLogName(name);
          if (!log) return;
          const again = parseLogName(formatLogName(log));
          expect(view(again), name).to.deep.equal(view(log));
          expect(again!.time).to.equal(log.time);
          // And formatting is idempotent once compact.
          expect(formatLogName(again!)).to.equal(formatLogName(log));
        }),
        runs(2000),
      );
    });
  });

  describe('URI template', () => {
    const FIELDS = [
      'prefix',
      'year',
      'month',
      'day',
      'filename',
      'hour',
      'minute',
      'suffix',
      'extension',
      'hostname',
      'file',
      'Prefix',
      '',
    ];
    const keyPiece = fc.oneof(
      fc.constantFrom(...FIELDS).map((f) => `{${f}}`),
      fc.constantFrom('/', '//', '.', '..', '-', '_', 'logs', 'a', '{', '}', ' ', 'é', '%2F', '?', '#', '\\'),
    );
    const mandatory = '{prefix}/{year}/{month}/{day}/{filename}';
    const templateArb = fc.oneof(
      { weight: 1, arbitrary: fc.array(keyPiece, { maxLength: 14 }).map((parts) => `s3://logs/${parts.join('')}`) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.array(keyPiece, { maxLength: 6 }), fc.array(keyPiece, { maxLength: 6 }))
          .map(([a, b]) => `s3://logs/${a.join('')}${mandatory}${b.join('')}`),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => `s3://logs/${s}`) },
      { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    );
    const logArb = fc
      .oneof(nameArb, validParts.map(written))
      .map((name) => parseLogName(name))
      .filter((log): log is LogName => log !== null);
    const hostArb = fc.oneof(
      fc.constantFrom('web1.example.com', '', '.', '..', 'a..b', 'h'),
      fc.string({ maxLength: 12 }),
    );

    /** The literal text before the first field: every key must start with it (its folders at least). */
    function literalPrefix(template: Template): string {
      const first = template.parts[0];
      return first && 'text' in first ? first.text.split('/').filter(Boolean).join('/') : '';
    }

    function checkKey(template: Template, key: string): void {
      expect(key, template.source).not.to.match(/^\//);
      expect(key, template.source).not.to.include('//');
      expect(key.split('/'), template.source).not.to.include.members(['.', '..']);
      expect(key.startsWith(literalPrefix(template)), `${key} leaves ${literalPrefix(template)}`).to.equal(true);
    }

    it('parseTemplate either accepts or says why (a UsageError), and what it accepts prints back as given', () => {
      fc.assert(
        fc.property(templateArb, (source) => {
          let template: Template;
          try {
            template = parseTemplate(source);
          } catch (error) {
            expect(error, source).to.be.instanceOf(UsageError);
            return;
          }
          const show = (parts: Template['parts']) =>
            parts
              .map((p) =>
                'text' in p
                  ? p.text.replace(/[{}]/g, (brace) => brace + brace)
                  : `{${p.field}${p.conversion ? `!${p.conversion}` : ''}${p.spec ? `:${p.spec}` : ''}}`,
              )
              .join('');
          expect(`s3://${show(template.bucketParts)}/${show(template.parts)}`).to.equal(source);
        }),
        runs(3000),
      );
    });

    it('a rendered key never starts with "/", holds "//" or a "." / ".." folder, nor leaves its literal prefix (or the file fails)', () => {
      fc.assert(
        fc.property(templateArb, logArb, hostArb, fc.integer({ min: 0, max: 99 }), (source, log, host, conflict) => {
          let template: Template;
          try {
            template = parseTemplate(source);
          } catch {
            return;
          }
          const values = conflict === 0 ? fieldValues(log, host) : conflictValues(log, host, conflict);
          let key: string;
          try {
            key = renderKey(template, values);
          } catch (error) {
            // A per-file failure with a reason, never a bad key.
            expect((error as Error).message).to.match(/refusing|longer than/);
            return;
          }
          checkKey(template, key);
          // {filename} holds no '/', so it survives whole: two files never share a key.
          expect(key).to.include(values.filename);
        }),
        runs(3000),
      );
    });
  });
});
