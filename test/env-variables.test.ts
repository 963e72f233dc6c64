// LOGJAM_<FLAG> variables, through the built binaries: what a systemd drop-in
// or a runit env/ folder does.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, ls, runBin, tmpDir } from './support/index.ts';
import { canDropPrivileges } from './reliability/helpers.ts';

const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';

async function logDir(): Promise<string> {
  const dir = await tmpDir();
  const file = path.join(dir, 'app-20240105T1300Z.log');
  await fs.writeFile(file, 'a line\n');
  const old = Date.now() / 1000 - 3600;
  await fs.utimes(file, old, old);
  return dir;
}

describe('LOGJAM_<FLAG> environment variables (built binaries)', () => {
  after(cleanupTmpDirs);

  it('logjam-compress: LOGJAM_ONCE=1 makes one pass and exits; LOGJAM_LEVEL is used', async () => {
    const dir = await logDir();
    const result = await runBin('logjam-compress', [dir], {
      env: { LOGJAM_ONCE: '1', LOGJAM_LEVEL: '1', LOGJAM_LOG_FORMAT: 'json' },
      timeoutMs: 20_000,
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(await ls(path.join(dir, 'archive'))).to.deep.equal(['app-20240105T1300Z.log.gz']);
    expect(JSON.parse(result.stderr.trim().split('\n')[0]!)).to.include({ level: 'info' });
  });

  it('logjam-compress: a bad value is a usage error naming the variable; a flag on the command line wins', async () => {
    const dir = await logDir();
    const bad = await runBin('logjam-compress', ['--once', dir], { env: { LOGJAM_LEVEL: '12' } });
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim().split('\n')).to.have.length(1);
    expect(bad.stderr).to.match(/^\S+ logjam-compress CRITICAL environment variable LOGJAM_LEVEL="12": .*--level/);
    expect(await ls(dir)).to.deep.equal(['app-20240105T1300Z.log']);
    const wins = await runBin('logjam-compress', ['--once', '--level', '9', dir], { env: { LOGJAM_LEVEL: '12' } });
    expect(wins.code, wins.stderr).to.equal(0);
  });

  it('logjam-upload: bad values name the variable, whoever checks them', async () => {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'app-20240105T1300Z.log.gz'), 'x');
    // --jobs is checked by logjam-upload itself, not by the command-line parser: still named.
    for (const [variable, value] of [
      ['LOGJAM_JOBS', 'abc'],
      ['LOGJAM_FORCE_PATH_STYLE', 'maybe'],
      ['LOGJAM_MULTIPART_THRESHOLD', '1K'],
    ] as const) {
      const bad = await runBin('logjam-upload', [dir, TEMPLATE], { env: { [variable]: value } });
      expect(bad.code, `${variable}: ${bad.stderr}`).to.equal(2);
      expect(bad.stderr.trim().split('\n')).to.have.length(1);
      expect(bad.stderr).to.include(`environment variable ${variable}="${value}"`);
    }
  });

  it('a LOGJAM_* variable no logjam knows is named at start at WARN, with the closest known name; one of the other tool is not', async () => {
    const dir = await logDir();
    const result = await runBin('logjam-compress', ['--once', dir], {
      env: { LOGJAM_MIN_AEG: '0', LOGJAM_SPLAY: '10m', LOGJAM_LOG_FORMAT: 'json' },
    });
    expect(result.code, result.stderr).to.equal(0);
    const warnings = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((r) => r.level === 'warn');
    expect(warnings.map((w) => w.msg)).to.deep.equal([
      'LOGJAM_MIN_AEG is not a variable logjam-compress knows, and is ignored; did you mean LOGJAM_MIN_AGE?',
    ]);
  });

  it('with --user, only the process that does the work names an unknown variable: once', async function () {
    if (!canDropPrivileges()) {
      console.log('      (skipped: needs root, setpriv and a repository nobody can read)');
      return this.skip();
    }
    const dir = await logDir();
    await fs.chmod(dir, 0o777);
    const result = await runBin('logjam-compress', ['--once', '--user', 'nobody', dir], {
      env: { LOGJAM_MIN_AEG: '0' },
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr.match(/LOGJAM_MIN_AEG is not a variable/g)).to.have.length(1);
  });

  it('LOGJAM_CHECK and LOGJAM_DRY_RUN are ignored, said at WARN every run: a mode comes from the command line only', async () => {
    const dir = await logDir();
    const compress = await runBin('logjam-compress', ['--once', dir], { env: { LOGJAM_CHECK: '1' } });
    expect(compress.code, compress.stderr).to.equal(0);
    expect(compress.stdout).to.equal('');
    expect(compress.stderr).to.match(/ WARN LOGJAM_CHECK is ignored: --check is taken from the command line only/);
    expect(await ls(path.join(dir, 'archive')), 'the run compressed').to.deep.equal(['app-20240105T1300Z.log.gz']);
    const archive = path.join(await tmpDir(), 'archive');
    await fs.mkdir(archive);
    const upload = await runBin('logjam-upload', ['--check', archive, TEMPLATE], { env: { LOGJAM_DRY_RUN: '1' } });
    expect(upload.code, upload.stderr).to.equal(0);
    expect(upload.stdout).to.match(/^OK: nothing waiting for upload/);
    expect(upload.stderr).to.match(/ WARN LOGJAM_DRY_RUN is ignored: --dry-run is taken from the command line only/);
  });
});
