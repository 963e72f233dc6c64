// --help a person reads: value names instead of clipanion's #0, usage lines
// that show the common options, details of a paragraph with a pointer to docs/;
// and the README's option tables listing the very flags --help lists.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TOOL_FLAGS } from '@logjam/core';
import { repoRoot, runBin, type BinaryName } from './support/index.ts';

const VALUES: Record<BinaryName, string[]> = {
  'logjam-compress': [
    '--level N',
    '--min-age DURATION',
    '--log-level,-l LEVEL',
    '--jobs N',
    '--max-age DURATION',
    '--metrics-file PATH',
  ],
  'logjam-upload': [
    '--splay DURATION',
    '--log-level,-l LEVEL',
    '--part-size SIZE',
    '--endpoint-url URL',
    '--delete-uploaded-after DURATION',
  ],
};

/** The long flags a --help lists in its Options. */
function helpFlags(help: string): string[] {
  return [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!);
}

/** The flags in the first column of the README's tables for `binary`: its own section's and Both binaries'. */
async function readmeFlags(binary: BinaryName): Promise<string[]> {
  const readme = await fs.readFile(path.join(repoRoot, 'README.md'), 'utf8');
  const section = (title: string) => {
    const start = readme.indexOf(`\n## ${title}\n`);
    expect(start, `README section ${title}`).to.be.at.least(0);
    const end = readme.indexOf('\n## ', start + 1);
    return readme.slice(start, end < 0 ? undefined : end);
  };
  // A first cell up to its unescaped | (`--sse AES256\|aws:kms`).
  const firstCells = (text: string) => [...text.matchAll(/^\|((?:\\\||[^|])*)\|/gm)].map((m) => m[1]!);
  const flags = [section(binary), section('Both binaries')]
    .flatMap(firstCells)
    .flatMap((cell) => cell.match(/--[a-z][a-z-]*/g) ?? []);
  // --no-verify is the README's name of --verify's one use; --help and --version are clipanion's, not in Options.
  return [...new Set(flags.map((flag) => flag.replace(/^--no-/, '--')))].filter(
    (flag) => flag !== '--help' && flag !== '--version',
  );
}

describe('--help (built binaries)', () => {
  for (const binary of ['logjam-compress', 'logjam-upload'] as const) {
    it(`${binary}: value names, no #0; usage lines with the common options; short details pointing to docs/`, async () => {
      const result = await runBin(binary, ['--help']);
      expect(result.code).to.equal(0);
      const help = result.stdout;
      expect(help).not.to.include('#0');
      for (const option of VALUES[binary])
        expect(help, option).to.match(new RegExp(`^  ${option.replace(/[[\]]/g, '\\$&')}\\s`, 'm'));
      const usage = help.split('\n').filter((line) => line.startsWith(`$ ${binary} `) && !line.includes('/var/log'));
      expect(usage.length, usage.join('\n')).to.be.at.least(2);
      expect(usage[0]).to.include('[--once]').and.to.include('[--log-level LEVEL]');
      expect(usage.some((line) => line.startsWith(`$ ${binary} --check [--max-age DURATION]`))).to.equal(true);
      const details = help.slice(help.indexOf('\nDetails\n'), help.indexOf('\nExamples\n'));
      expect(details.trim().split(/\n\s*\n/), details).to.have.length(2);
      expect(details.length).to.be.below(1000);
      expect(details).to.match(/logjam's\s+docs\//);
    });

    it(`${binary}: the flags its --help lists are those env-names.ts knows (a LOGJAM_* variable for a new flag is not called a typo)`, async () => {
      const listed = helpFlags((await runBin(binary, ['--help'])).stdout);
      expect([...listed].sort()).to.deep.equal([...TOOL_FLAGS[binary]!].sort());
    });

    it(`${binary}: the README's option tables list exactly the flags its --help lists`, async () => {
      const listed = helpFlags((await runBin(binary, ['--help'])).stdout);
      expect((await readmeFlags(binary)).sort()).to.deep.equal([...listed].sort());
    });
  }
});
