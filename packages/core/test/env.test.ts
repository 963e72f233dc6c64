import { expect } from 'chai';
import { envArgs, envName, envSourceOf, EnvValueError, flagSpecs } from '../src/env.ts';

describe('LOGJAM_* environment variables', () => {
  const specs = flagSpecs([
    { definition: '--once' },
    { definition: '--level #0' },
    { definition: '--min-age #0' },
    { definition: '--verify' },
    { definition: '-h,--help' },
  ]);

  it('names a variable after its flag', () => {
    expect(envName('--min-age')).to.equal('LOGJAM_MIN_AGE');
    expect(envName('--level')).to.equal('LOGJAM_LEVEL');
  });

  it('reads which flags take values from clipanion definitions, leaving --help out', () => {
    expect(specs).to.deep.equal([
      { flag: '--once', takesValue: false },
      { flag: '--level', takesValue: true },
      { flag: '--min-age', takesValue: true },
      { flag: '--verify', takesValue: false },
    ]);
  });

  it('turns variables into flags', () => {
    const { args, sources } = envArgs(
      { LOGJAM_LEVEL: '9', LOGJAM_ONCE: 'yes', LOGJAM_VERIFY: '0', LOGJAM_MIN_AGE: '' },
      specs,
      ['/var/log/x'],
    );
    expect(args).to.deep.equal(['--once', '--level=9', '--no-verify']);
    expect(sources.get('--level')).to.equal('LOGJAM_LEVEL');
  });

  it('lets the command line win', () => {
    const { args } = envArgs({ LOGJAM_LEVEL: '9', LOGJAM_VERIFY: '1', LOGJAM_ONCE: '1' }, specs, [
      '--level',
      '3',
      '--no-verify',
      '--once=1',
      'dir',
    ]);
    expect(args).to.deep.equal([]);
  });

  it('ignores flags after --', () => {
    const { args } = envArgs({ LOGJAM_LEVEL: '9' }, specs, ['--', '--level']);
    expect(args).to.deep.equal(['--level=9']);
  });

  it('rejects a switch that is neither true nor false, naming the variable', () => {
    expect(() => envArgs({ LOGJAM_ONCE: 'maybe' }, specs, [])).to.throw(EnvValueError, /LOGJAM_ONCE="maybe"/);
  });

  it('finds the variable behind an error message about its flag', () => {
    const sources = new Map([
      ['--level', 'LOGJAM_LEVEL'],
      ['--min-age', 'LOGJAM_MIN_AGE'],
    ]);
    expect(envSourceOf('Invalid value for --level: expected ...', sources)).to.equal('LOGJAM_LEVEL');
    expect(envSourceOf('Invalid value for --min-age: expected ...', sources)).to.equal('LOGJAM_MIN_AGE');
    expect(envSourceOf('Invalid value for --level-x', sources)).to.equal(undefined);
  });
});
