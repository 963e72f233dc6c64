import { expect } from 'chai';
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { LogjamCommand, runCli } from '../src/cli.ts';
import { ConfigError } from '../src/errors.ts';

// A command shaped like the real ones, to check the frame: exit codes, one-line errors on stderr, LOGJAM_* variables.
class EchoCommand extends LogjamCommand {
  static override paths = [Command.Default];
  static override usage = Command.Usage({ description: 'Echoes its options.' });
  once = Option.Boolean('--once', false, { description: 'One pass.' });
  level = Option.String('--level', '6', {
    description: 'Level 1-9.',
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 9)]),
  });
  dirs = Option.Rest({ required: 1 });
  async run(): Promise<number> {
    if (this.dirs[0] === 'config-error') throw new ConfigError('bucket "b" does not exist');
    if (this.dirs[0] === 'crash') throw new Error('disk on fire');
    if (this.dirs[0] === 'eacces')
      throw Object.assign(new Error("EACCES: permission denied, open '/var/x/.lock'"), {
        code: 'EACCES',
        syscall: 'open',
        path: '/var/x/.lock',
      });
    process.stdout.write(JSON.stringify({ once: this.once, level: this.level, dirs: this.dirs }));
    return 0;
  }
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof out;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof err;
  try {
    const code = await runCli({ binaryName: 'echo', binaryVersion: '1.2.3', commands: [EchoCommand] }, argv, env);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('command-line frame', () => {
  it('runs a command', async () => {
    const r = await run(['--once', '--level', '3', 'a', 'b']);
    expect(r).to.deep.equal({
      code: 0,
      stdout: JSON.stringify({ once: true, level: 3, dirs: ['a', 'b'] }),
      stderr: '',
    });
  });

  for (const [label, argv, pattern] of [
    ['an unknown flag', ['--bogus', 'a'], /--bogus/],
    ['an out-of-range value', ['--level', '12', 'a'], /--level/],
    ['a missing argument', [], /positional|argument/i],
  ] as const) {
    it(`exits 2 with one line on stderr for ${label}`, async () => {
      const r = await run([...argv]);
      expect(r.code).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(pattern);
      expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(/^\S+ echo CRITICAL .*see 'echo --help'\) exit=2\n$/);
    });

    it(`says so in JSON under --log-format json, and as UNKNOWN (exit 3, one stdout line) under --check, for ${label}`, async () => {
      const json = await run(['--log-format', 'json', ...argv]);
      expect(json.code).to.equal(2);
      expect(json.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(JSON.parse(json.stderr)).to.include({ level: 'critical', name: 'echo', exit: 2 });
      const check = await run(['--check', ...argv]);
      expect(check).to.deep.include({ code: 3, stderr: '' });
      expect(check.stdout).to.match(/^UNKNOWN: .*\n$/);
      expect(check.stdout.trimEnd().split('\n')).to.have.length(1);
    });
  }

  it('exits 2 for a configuration error and 1 for a failure, one line each', async () => {
    const config = await run(['config-error']);
    expect(config.code).to.equal(2);
    // A configuration error is not a command-line mistake: no pointer to --help.
    expect(config.stderr).to.match(/^\S+ echo CRITICAL bucket "b" does not exist exit=2\n$/);
    const crash = await run(['crash']);
    expect(crash.code).to.equal(1);
    expect(crash.stderr).to.match(/CRITICAL disk on fire exit=1\n$/);
    expect(crash.stderr.trimEnd().split('\n')).to.have.length(1);
  });

  it('knows --check and --log-format by their unique prefixes too, as the Python tool took them', async () => {
    const check = await run(['--chec', '--level', '12', 'a']);
    expect(check.code).to.equal(3);
    expect(check.stdout).to.match(/^UNKNOWN: .*--level/);
    const json = await run(['--log-f=json', '--level', '12', 'a']);
    expect(JSON.parse(json.stderr)).to.include({ level: 'critical', exit: 2 });
  });

  it('under --check, a configuration error or a failure is UNKNOWN: exit 3, one line on stdout, nothing on stderr', async () => {
    for (const dir of ['config-error', 'crash']) {
      const r = await run(['--check', dir]);
      expect(r, dir).to.deep.include({ code: 3, stderr: '' });
      expect(r.stdout).to.match(/^UNKNOWN: (bucket "b" does not exist|disk on fire)\n$/);
    }
  });

  it('says a system error in words, with the path and the fix, no errno text; exit 2 (the operator fixes permissions)', async () => {
    const r = await run(['--log-format=json', 'eacces']);
    expect(r.code).to.equal(2);
    const line = JSON.parse(r.stderr) as { msg: string };
    expect(line.msg).to.match(/^cannot open \/var\/x\/\.lock: permission denied: give this user access/);
    expect(line.msg).not.to.match(/EACCES/);
  });

  it('takes flags from LOGJAM_* variables, the command line winning', async () => {
    expect(JSON.parse((await run(['a'], { LOGJAM_LEVEL: '9', LOGJAM_ONCE: '1' })).stdout)).to.deep.equal({
      once: true,
      level: 9,
      dirs: ['a'],
    });
    expect(JSON.parse((await run(['--level', '2', 'a'], { LOGJAM_LEVEL: '9' })).stdout)).to.include({ level: 2 });
  });

  it('takes the Python level names from LOGJAM_LOG_LEVEL: at critical, the message that ends the run still shows', async () => {
    const r = await run(['crash'], { LOGJAM_LOG_LEVEL: 'critical' });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^\S+ echo CRITICAL disk on fire exit=1\n$/);
    expect((await run(['a'], { LOGJAM_LOG_LEVEL: 'warning' })).code).to.equal(0);
  });

  it('names the variable behind a bad value', async () => {
    const r = await run(['a'], { LOGJAM_LEVEL: '12' });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/environment variable LOGJAM_LEVEL="12"/);
  });

  it('gives the reason of a command-line mistake without the usage lines, and blames no variable for another flag', async () => {
    const r = await run(['--bogus', 'a'], { LOGJAM_LEVEL: '3' });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(
      /^\S+ echo CRITICAL Unsupported option name \("--bogus"\)\. \(see 'echo --help'\) exit=2\n$/,
    );
  });

  it('prints help and version on stdout, exit 0', async () => {
    const help = await run(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/Echoes its options/);
    const version = await run(['--version']);
    expect(version).to.deep.include({ code: 0, stdout: '1.2.3\n' });
  });
});
