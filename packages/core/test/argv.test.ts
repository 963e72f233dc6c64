import { expect } from 'chai';
import { canonicalArgs, type OptionSpec } from '../src/argv.js';
import { UsageError } from '../src/errors.js';

// The options logjam-compress has (the ones that matter for prefixes).
const OPTIONS: OptionSpec[] = [
  { names: ['--log-level', '-l'], takesValue: true },
  { names: ['--log-format'], takesValue: true },
  { names: ['--once'], takesValue: false },
  { names: ['--level'], takesValue: true },
  { names: ['--verify'], takesValue: false },
  { names: ['--max-age'], takesValue: true },
  { names: ['--min-age'], takesValue: true },
];

describe("canonicalArgs (the Python tool's argparse forms)", () => {
  for (const [argv, expected] of [
    [
      ['-lwarning', 'd'],
      ['--log-level=warning', 'd'],
    ],
    [
      ['-l=debug', 'd'],
      ['--log-level=debug', 'd'],
    ],
    [
      ['-l', 'error', 'd'],
      ['--log-level=error', 'd'],
    ],
    [
      ['--onc', '--log-lev=info', 'd'],
      ['--once', '--log-level=info', 'd'],
    ],
    [
      ['--lev', '9', 'd'],
      ['--level', '9', 'd'],
    ],
    [
      ['--no-ver', 'd'],
      ['--no-verify', 'd'],
    ],
    // The value of a flag is never read as a flag, nor is anything after '--'.
    [
      ['--log-f', '--onc', 'd'],
      ['--log-format', '--onc', 'd'],
    ],
    [
      ['--', '--onc'],
      ['--', '--onc'],
    ],
    [['--he'], ['--help']],
    [
      ['--bogus', 'd'],
      ['--bogus', 'd'],
    ],
  ] as const) {
    it(`${argv.join(' ')} -> ${expected.join(' ')}`, () => {
      expect(canonicalArgs([...argv], OPTIONS)).to.deep.equal(expected);
    });
  }

  it('gives the prefixes the Python tool resolved their Python meaning: --l and --log are --log-level', () => {
    expect(canonicalArgs(['--l', 'debug', '--log=info'], OPTIONS)).to.deep.equal([
      '--log-level',
      'debug',
      '--log-level=info',
    ]);
  });

  it('refuses any other ambiguous prefix, naming the candidates', () => {
    expect(() => canonicalArgs(['--m', '1h', 'd'], OPTIONS)).to.throw(
      UsageError,
      'ambiguous option: --m could match --max-age, --min-age',
    );
  });
});
