// The progress bar of a --once pass: drawn on stderr when it is a terminal
// (here a pseudo-terminal from util-linux `script`), never otherwise.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { binaries, cleanupTmpDirs, ls, runBin, tmpDir } from './support/index.ts';
import { imdsEnv } from './support/imds.ts';
import { useS3AndImds } from './support/servers.ts';

const run = promisify(execFile);
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
const BAR = /\[[#-]{24}\] \d+\/\d+ files [\d.]+\/[\d.]+ MB (compressed|uploaded) [\d.]+ MB\/s ETA (\d+:\d\d|--:--)/;

/** Runs a binary with a pseudo-terminal as stdin, stdout and stderr; returns what the terminal showed. */
async function inTerminal(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const command = [process.execPath, bin, ...args].map(quote).join(' ');
  const { stdout } = await run('script', ['-qfec', command, '/dev/null'], { env, timeout: 30_000 });
  return stdout;
}

async function logDir(files: number): Promise<string> {
  const dir = await tmpDir();
  const old = Date.now() / 1000 - 7200;
  for (let i = 0; i < files; i += 1) {
    const file = path.join(dir, `app-20240105T${String(i % 24).padStart(2, '0')}00Z-i-${Math.floor(i / 24)}.log`);
    await fs.writeFile(file, `line ${i}\n`.repeat(20_000));
    await fs.utimes(file, old, old);
  }
  return dir;
}

describe('progress bar on --once passes (built binaries)', function () {
  this.timeout(60_000);
  after(cleanupTmpDirs);

  it('logjam-compress: none when stderr is not a terminal; the log lines stand alone', async () => {
    const dir = await logDir(5);
    const result = await runBin('logjam-compress', ['--once', dir]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).not.to.include('\r');
    expect(result.stderr).not.to.match(/ETA|\x1b\[/);
    for (const line of result.stderr.trim().split('\n')) expect(line).to.match(/^\S+Z logjam-compress INFO /);
  });

  it('logjam-compress: at a terminal, a bar with files, bytes, rate and ETA, erased at the end; log lines intact', async () => {
    const dir = await logDir(30);
    const screen = await inTerminal(binaries['logjam-compress'], ['--once', '--jobs', '2', dir]);
    expect(screen).to.match(BAR);
    expect(screen).to.include('/30 files');
    expect(screen).to.match(/\r\x1b\[K\S+Z logjam-compress INFO pass done compressed=30/);
    expect(await ls(dir)).to.deep.equal(['archive']);
  });

  it('logjam-compress: no bar in service mode, even at a terminal', async () => {
    const dir = await logDir(3);
    // --interval: the service would run forever; `timeout` stops it with SIGTERM.
    const command = ['timeout', '-s', 'TERM', '2', process.execPath, binaries['logjam-compress'], dir]
      .map(quote)
      .join(' ');
    // `timeout` exits 124 (and so does `script -e`): what the terminal showed is still there.
    const stdout = await run('script', ['-qfec', command, '/dev/null'], { timeout: 30_000 }).then(
      (r) => r.stdout,
      (error: { stdout?: string }) => error.stdout ?? '',
    );
    expect(stdout).to.match(/compressed/);
    expect(stdout).not.to.match(BAR);
  });

  describe('logjam-upload', () => {
    const servers = useS3AndImds({ buckets: ['logs'] });

    async function archiveDir(files: number): Promise<string> {
      const dir = path.join(await tmpDir(), 'archive');
      await fs.mkdir(dir);
      for (let i = 0; i < files; i += 1)
        await fs.writeFile(
          path.join(dir, `app-20240105T${String(i).padStart(2, '0')}00Z.log.gz`),
          Buffer.alloc(100_000, i),
        );
      return dir;
    }
    const args = (dir: string, tag: string) => [
      '--once',
      '--endpoint-url',
      servers.s3.endpoint,
      '--force-path-style',
      dir,
      `s3://logs/${tag}/{prefix}/{year}/{month}/{day}/{filename}`,
    ];

    it('at a terminal, a bar; without one, none', async () => {
      const home = await tmpDir();
      const env = imdsEnv(servers.imds.endpoint, home);
      const screen = await inTerminal(binaries['logjam-upload'], args(await archiveDir(12), 'tty'), env);
      expect(screen).to.match(BAR);
      expect(screen).to.include('/12 files');
      expect(screen).to.match(/pass done pending=12 uploaded=12/);
      const plain = await runBin('logjam-upload', args(await archiveDir(12), 'pipe'), { cleanEnv: true, env });
      expect(plain.code, plain.stderr).to.equal(0);
      expect(plain.stderr).not.to.include('\r');
      expect(plain.stderr).not.to.match(/ETA/);
    });
  });
});
