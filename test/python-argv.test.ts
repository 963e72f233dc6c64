// The Python logjam's command lines run unchanged through the built binaries.
// Each row is what the Python tool's argparse made of the line (produced by
// test/python/argv.py under Python 2.7 with logjam 0.0.4): logjam must accept
// what it accepted, at the same log level, and refuse (exit 2) what it refused
// — except `warn`, logjam's own name for `warning`, which it keeps accepting.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, runBin, startBin, tmpDir, waitExit, waitFor, exists } from './support/index.ts';
import { S3RVER_KEY, S3RVER_SECRET, startS3, type TestS3 } from './support/s3.ts';

type Python = { once: boolean; log_level: string } | { exit: number; error: string };
interface Row {
  argv: string[];
  python: Python;
}

const COMPRESS: Row[] = [
  { argv: ['--once', 'LOG_DIR'], python: { once: true, log_level: 'info' } },
  { argv: ['--once', '-l', 'warning', 'LOG_DIR'], python: { once: true, log_level: 'warning' } },
  { argv: ['--once', '-lwarning', 'LOG_DIR'], python: { once: true, log_level: 'warning' } },
  { argv: ['--once', '-l=error', 'LOG_DIR'], python: { once: true, log_level: 'error' } },
  { argv: ['--once', '--log-level=critical', 'LOG_DIR'], python: { once: true, log_level: 'critical' } },
  { argv: ['--once', '--log-level', 'debug', 'LOG_DIR'], python: { once: true, log_level: 'debug' } },
  { argv: ['--onc', 'LOG_DIR'], python: { once: true, log_level: 'info' } },
  { argv: ['--o', '--log-lev', 'info', 'LOG_DIR'], python: { once: true, log_level: 'info' } },
  { argv: ['--log=warning', '--once', 'LOG_DIR'], python: { once: true, log_level: 'warning' } },
  { argv: ['LOG_DIR', '--once', '-l', 'critical'], python: { once: true, log_level: 'critical' } },
  { argv: ['--once', '--lo', 'error', 'LOG_DIR'], python: { once: true, log_level: 'error' } },
  {
    argv: ['--once', '-l', 'loud', 'LOG_DIR'],
    python: {
      exit: 2,
      error:
        "argument --log-level/-l: invalid choice: 'loud' (choose from 'debug', 'info', 'warning', 'error', 'critical')",
    },
  },
  { argv: ['--once', '--bogus', 'LOG_DIR'], python: { exit: 2, error: 'unrecognized arguments: --bogus' } },
];

const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';
const UPLOAD: Row[] = [
  { argv: ['--once', 'ARCHIVE_DIR', TEMPLATE], python: { once: true, log_level: 'info' } },
  { argv: ['--once', '-lwarning', 'ARCHIVE_DIR', TEMPLATE], python: { once: true, log_level: 'warning' } },
  { argv: ['--onc', '--log-level=debug', 'ARCHIVE_DIR', TEMPLATE], python: { once: true, log_level: 'debug' } },
  { argv: ['ARCHIVE_DIR', TEMPLATE, '--o', '-l', 'critical'], python: { once: true, log_level: 'critical' } },
  { argv: ['--log', 'error', '--once', 'ARCHIVE_DIR', TEMPLATE], python: { once: true, log_level: 'error' } },
];

/** The severities a run at `level` prints, of those the compress set-up below provokes (one of each, none ending the run). */
const SHOWN: Record<string, string[]> = {
  debug: ['DEBUG', 'ERROR', 'INFO', 'WARN'],
  info: ['ERROR', 'INFO', 'WARN'],
  warning: ['ERROR', 'WARN'],
  warn: ['ERROR', 'WARN'],
  error: ['ERROR'],
  critical: [],
};
const severities = (stderr: string) =>
  [...new Set(stderr.split('\n').flatMap((line) => /^\S+ logjam-\w+ ([A-Z]+) /.exec(line)?.[1] ?? []))].sort();

describe('the Python logjam command lines (golden rows from its argparse)', function () {
  this.timeout(60_000);
  after(cleanupTmpDirs);

  describe('logjam-compress', () => {
    // A file still open (DEBUG), a threadpool smaller than --jobs (WARN), a
    // pass summary (INFO) and a metrics file that cannot replace the folder of
    // its name (ERROR, not fatal; a missing folder would end the run at start).
    const env = { UV_THREADPOOL_SIZE: '2', LOGJAM_JOBS: '8' };
    for (const row of [
      ...COMPRESS,
      {
        argv: ['--once', '-l', 'warn', 'LOG_DIR'],
        python: { exit: 2, error: "argument --log-level/-l: invalid choice: 'warn'" },
      },
    ]) {
      const accepts = 'once' in row.python || row.argv.includes('warn');
      const level = 'once' in row.python ? row.python.log_level : 'warn';
      it(`${row.argv.join(' ')}: ${'once' in row.python ? `Python ran once at ${level}` : `Python exited 2 (${row.python.error})`}`, async () => {
        const dir = await tmpDir();
        await fs.writeFile(path.join(dir, 'app-20990101T0000Z.log'), 'still open\n');
        await fs.mkdir(path.join(dir, 'logjam.prom'));
        const result = await runBin(
          'logjam-compress',
          row.argv.map((a) => (a === 'LOG_DIR' ? dir : a)),
          { env: { ...env, LOGJAM_METRICS_FILE: path.join(dir, 'logjam.prom') } },
        );
        if (!accepts) {
          expect(result.code, result.stderr).to.equal(2);
          expect(result.stderr).to.match(/^\S+ logjam-compress CRITICAL .* exit=2\n$/);
          return;
        }
        expect(result.code, result.stderr).to.equal(0);
        expect(severities(result.stderr)).to.deep.equal(SHOWN[level]);
      });
    }
  });

  describe('logjam-upload', () => {
    let s3: TestS3;
    before(async () => {
      s3 = await startS3({ buckets: ['logs'] });
    });
    after(async () => s3.close());
    for (const row of UPLOAD) {
      const level = 'once' in row.python ? row.python.log_level : '';
      it(`${row.argv.join(' ')}: Python ran once at ${level}`, async () => {
        const dir = path.join(await tmpDir(), 'archive');
        await fs.mkdir(dir);
        await fs.writeFile(path.join(dir, 'app-20240101T0000Z.log.gz'), 'x');
        const env = {
          AWS_ENDPOINT_URL: s3.endpoint,
          LOGJAM_FORCE_PATH_STYLE: '1',
          AWS_ACCESS_KEY_ID: S3RVER_KEY,
          AWS_SECRET_ACCESS_KEY: S3RVER_SECRET,
          AWS_REGION: 'us-east-1',
        };
        const result = await runBin(
          'logjam-upload',
          row.argv.map((a) => (a === 'ARCHIVE_DIR' ? dir : a)),
          { env, cleanEnv: true },
        );
        expect(result.code, result.stderr).to.equal(0);
        expect(await exists(path.join(dir, '.uploaded', 'app-20240101T0000Z.log.gz'))).to.equal(true);
        const shown = severities(result.stderr);
        if (level === 'debug') expect(shown).to.include.members(['DEBUG', 'INFO']);
        else if (level === 'info') expect(shown).to.deep.equal(['INFO']);
        else expect(shown).to.deep.equal([]);
      });
    }
  });
});

describe("the Python README's invocations, run as written (with this host's paths)", function () {
  this.timeout(60_000);
  let s3: TestS3;
  before(async () => {
    s3 = await startS3({ buckets: ['logs'] });
  });
  after(async () => {
    await s3.close();
    await cleanupTmpDirs();
  });
  const s3Env = () => ({
    AWS_ENDPOINT_URL: s3.endpoint,
    LOGJAM_FORCE_PATH_STYLE: '1',
    AWS_ACCESS_KEY_ID: S3RVER_KEY,
    AWS_SECRET_ACCESS_KEY: S3RVER_SECRET,
    AWS_DEFAULT_REGION: 'us-east-1',
  });

  /** /var/log/my-log-dir, under a temporary root, holding one closed log file. */
  async function logDir(): Promise<string> {
    const dir = path.join(await tmpDir(), 'var/log/my-log-dir');
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'haproxy-20130704T0000Z-us-west-2-i-ae23fega.log');
    await fs.writeFile(file, 'GET / 200\n');
    await fs.utimes(file, new Date(2013, 6, 4), new Date(2013, 6, 4));
    return dir;
  }
  const KEY = 'haproxy/2013/07/04/haproxy-20130704T0000Z-us-west-2-i-ae23fega.log.gz';

  it('cron: logjam-compress --once /var/log/my-log-dir/, then logjam-upload --once /var/log/my-log-dir/archive/ s3://YOUR_BUCKET/{prefix}/{year}/{month}/{day}/{filename}', async () => {
    const dir = await logDir();
    const compress = await runBin('logjam-compress', ['--once', `${dir}/`]);
    expect(compress.code, compress.stderr).to.equal(0);
    // The README's `{month}{/{day}` has a stray brace (Python refused it too); the rest is as written.
    const upload = await runBin(
      'logjam-upload',
      ['--once', `${dir}/archive/`, 's3://logs/{prefix}/{year}/{month}/{day}/{filename}'],
      { env: s3Env(), cleanEnv: true },
    );
    expect(upload.code, upload.stderr).to.equal(0);
    expect((await s3.download('logs', KEY)).length).to.be.greaterThan(0);
  });

  it('upstart / runit: logjam-compress /var/log/my-log-dir, then logjam-upload /var/log/my-log-dir/archive/ s3://YOUR_BUCKET/…, as services', async () => {
    const dir = await logDir();
    const compress = startBin('logjam-compress', [dir]);
    await waitFor(() => exists(path.join(dir, 'archive', 'haproxy-20130704T0000Z-us-west-2-i-ae23fega.log.gz')), {
      what: 'the archive',
    });
    compress.kill('SIGTERM');
    expect((await waitExit(compress)).code).to.equal(0);
    const upload = startBin(
      'logjam-upload',
      [`${dir}/archive/`, 's3://logs/{prefix}/{year}/{month}/{day}/{filename}'],
      { env: s3Env(), cleanEnv: true },
    );
    await waitFor(
      () => exists(path.join(dir, 'archive', '.uploaded', 'haproxy-20130704T0000Z-us-west-2-i-ae23fega.log.gz')),
      { what: 'the marker' },
    );
    upload.kill('SIGTERM');
    expect((await waitExit(upload)).code).to.equal(0);
  });
});
