// --help a person reads: value names instead of clipanion's #0, usage lines
// that show the common options, details of a paragraph or two with a pointer to docs/.
import { expect } from 'chai';
import { TOOL_FLAGS } from '@logjam/core';
import { runBin, type BinaryName } from './support/index.ts';

const VALUES: Record<BinaryName, string[]> = {
  'logjam-compress': ['--level N', '--min-age DURATION', '--log-level,-l LEVEL', '--jobs N', '--max-age DURATION', '--metrics-file PATH'],
  'logjam-upload': ['--splay DURATION', '--log-level,-l LEVEL', '--part-size SIZE', '--endpoint-url URL', '--delete-uploaded-after DURATION'],
};

describe('--help (built binaries)', () => {
  for (const binary of ['logjam-compress', 'logjam-upload'] as const) {
    it(`${binary}: value names, no #0; usage lines with the common options; short details pointing to docs/`, async () => {
      const result = await runBin(binary, ['--help']);
      expect(result.code).to.equal(0);
      const help = result.stdout;
      expect(help).not.to.include('#0');
      for (const option of VALUES[binary]) expect(help, option).to.match(new RegExp(`^  ${option.replace(/[[\]]/g, '\\$&')}\\s`, 'm'));
      const usage = help.split('\n').filter((line) => line.startsWith(`$ ${binary} `) && !line.includes('/var/log'));
      expect(usage.length, usage.join('\n')).to.be.at.least(2);
      expect(usage[0]).to.include('[--once]').and.to.include('[--log-level LEVEL]');
      expect(usage.some((line) => line.startsWith(`$ ${binary} --check [--max-age DURATION]`))).to.equal(true);
      const details = help.slice(help.indexOf('\nDetails\n'), help.indexOf('\nExamples\n'));
      expect(details.split(/\n\s*\n/).length - 1, details).to.be.at.most(2);
      expect(details.length).to.be.below(2000);
      expect(details).to.match(/logjam's\s+docs\//);
    });

    it(`${binary}: the flags its --help lists are those env-names.ts knows (a LOGJAM_* variable for a new flag is not called a typo)`, async () => {
      const help = (await runBin(binary, ['--help'])).stdout;
      const listed = [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!);
      expect([...listed].sort()).to.deep.equal([...TOOL_FLAGS[binary]!].sort());
    });
  }
});
