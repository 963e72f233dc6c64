// Python 2.7's format() on the Python logjam's template values, row by row:
// pyformat.golden.json holds what Python did (test/python/format.py made it).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { pyConvert, pyFormat, type PyValue } from '../src/pyformat.ts';

interface Row {
  spec: string;
  conversion?: string;
  value: string;
  python: { bytes: string } | { error: string };
}
const rows = JSON.parse(readFileSync(new URL('./pyformat.golden.json', import.meta.url), 'utf8')) as Row[];

/** The value a row names: `year 2013` is the int, the others byte strings written as Python escapes. */
function valueOf(label: string): PyValue {
  const [field, ...rest] = label.replace(/ \(.*\)$/, '').split(' ');
  const text = rest.join(' ');
  if (field === 'year') return Number(text);
  return text
    .replace(/\\x([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/\\t/g, '\t');
}

describe('pyFormat: Python 2.7 format() of template values (golden rows)', () => {
  it(`has the rows (${rows.length})`, () => expect(rows.length).to.be.greaterThan(1000));
  // One test per spec, over every value: each row says what Python gave.
  const bySpec = new Map<string, Row[]>();
  for (const row of rows) {
    const field = `{${row.conversion ? `!${row.conversion}` : ''}${row.spec ? `:${row.spec}` : ''}}`;
    bySpec.set(field, [...(bySpec.get(field) ?? []), row]);
  }
  for (const [field, specRows] of bySpec) {
    it(`${field} of ${specRows
      .map((r) => r.value.split(' ')[0])
      .filter((v, i, all) => all.indexOf(v) === i)
      .join(', ')}`, () => {
      for (const row of specRows) {
        const render = () =>
          pyFormat(row.conversion ? pyConvert(valueOf(row.value), row.conversion) : valueOf(row.value), row.spec);
        const what = `${field} of ${row.value}`;
        if ('bytes' in row.python) expect(render(), what).to.equal(row.python.bytes);
        else expect(render, what).to.throw(row.python.error);
      }
    });
  }
});
