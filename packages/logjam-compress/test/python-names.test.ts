// File names, closing decisions and duplicate names, row by row against what
// the Python logjam 0.0.4 did (python-names.golden.json, made by
// test/python/names.py). Rows where logjam deliberately differs say why.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { displayName, nameFromBytes, parseLogName } from '@logjam/core';
import { archiveNames } from '../src/compress.ts';
import { selectDue } from '../src/select.ts';

interface Golden {
  names: Array<{ name: string; python: { prefix: string; stamp: string; suffix: string; extension: string } | null }>;
  closing: Array<{ names: string[]; now: string; python: string[] }>;
  duplicates: Array<{ name: string; python: string[] }>;
}
const golden = JSON.parse(readFileSync(new URL('./python-names.golden.json', import.meta.url), 'utf8')) as Golden;
/** A name as on disk: the golden file holds its bytes as chars 0-255. */
const onDisk = (bytes: string) => nameFromBytes(Buffer.from(bytes, 'latin1'));
const bytesOf = (text: string) => Buffer.from(text, 'latin1');

/** Names logjam refuses on purpose (docs/migrating.md): hidden, temporary and backup files, line breaks. */
function deliberate(name: string): string | undefined {
  if (name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('~'))
    return 'a hidden, temporary or backup file is never a log file';
  if (/[\n\r]/.test(name)) return 'a name holding a line break is never a log file';
  return undefined;
}

describe("the Python logjam's names, closing decisions and duplicate names (golden rows)", () => {
  describe('parse_filename', () => {
    for (const row of golden.names) {
      const name = onDisk(row.name);
      const why = deliberate(name);
      const python = row.python
        ? `${displayName(nameFromBytes(bytesOf(row.python.prefix)))} ${row.python.stamp} '${row.python.suffix}' ${row.python.extension}`
        : 'not a log file';
      it(`${JSON.stringify(displayName(name))}: Python ${python}${why ? `; logjam: not a log file (${why})` : ''}`, () => {
        const parsed = parseLogName(name);
        if (why || row.python === null) {
          expect(parsed).to.equal(null);
          return;
        }
        expect(parsed).not.to.equal(null);
        expect({
          prefix: parsed!.prefix,
          stamp: parsed!.stamp,
          suffix: parsed!.suffix,
          extension: parsed!.extension,
        }).to.deep.equal({
          prefix: onDisk(row.python.prefix),
          stamp: row.python.stamp,
          suffix: onDisk(row.python.suffix),
          extension: onDisk(row.python.extension),
        });
      });
    }
  });

  describe('which files compress closes (the 1 h 5 min rule and newer files)', () => {
    for (const row of golden.closing) {
      it(`${row.names.join(' ')} at ${row.now}: Python closed ${row.python.join(' ') || 'nothing'}`, () => {
        const candidates = row.names.map((name) => ({ log: parseLogName(name)!, mtimeMs: 0 }));
        const due = selectDue(candidates, { now: Date.parse(row.now), minAgeMs: 0 }).due.map((c) => c.log.name);
        expect(due.sort()).to.deep.equal([...row.python].sort());
      });
    }
  });

  describe('duplicate-timestamp names', () => {
    for (const row of golden.duplicates) {
      it(`${row.name}: Python took ${row.python.join(', ')}`, () => {
        expect(archiveNames(row.name).slice(1, 1 + row.python.length)).to.deep.equal(row.python);
      });
    }
  });
});
