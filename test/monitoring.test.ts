// --check and --metrics-file, through the built binaries.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseSamples } from '@logjam/core';
import { cleanupTmpDirs, compactStamp, ls, runBin, tmpDir } from './support/index.ts';
import { imdsEnv } from './support/imds.ts';
import { useS3AndImds } from './support/servers.ts';

const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function write(file: string, content: string, mtimeMs: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  await fs.utimes(file, mtimeMs / 1000, mtimeMs / 1000);
}

/** The stamp of the hour `hoursAgo` hours before the current one. */
function hourStamp(hoursAgo: number): string {
  return compactStamp(Math.floor(Date.now() / HOUR) * HOUR - hoursAgo * HOUR);
}

// The Prometheus text exposition format, line by line: comments, then samples with a float value.
const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const EXPOSITION_LINE = new RegExp(
  `^(# HELP ${METRIC_NAME} .*|# TYPE ${METRIC_NAME} (counter|gauge|histogram|summary|untyped)|${METRIC_NAME}(\\{[a-zA-Z_][a-zA-Z0-9_]*="(\\\\.|[^"\\\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\\\.|[^"\\\\])*")*\\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf))$`,
);

async function readMetrics(file: string): Promise<Map<string, number>> {
  const text = await fs.readFile(file, 'utf8');
  expect(text.endsWith('\n')).to.equal(true);
  for (const line of text.trimEnd().split('\n')) expect(line, 'exposition format').to.match(EXPOSITION_LINE);
  // Every sample has a TYPE; counters end in _total; units in the names.
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  for (const [name, type] of types) if (type === 'counter') expect(name).to.match(/_total$/);
  const samples = parseSamples(text);
  for (const name of samples.keys()) expect(types.has(name.replace(/\{.*$/, '')), name).to.equal(true);
  return samples;
}

describe('monitoring (built binaries)', function () {
  this.timeout(60_000);
  after(cleanupTmpDirs);

  describe('logjam-compress --check', () => {
    it('OK (exit 0) with what is due, its size and the oldest age; touches nothing', async () => {
      const dir = await tmpDir();
      const now = Date.now();
      // Closed 10 minutes ago by a newer file of its group; the newer one is open.
      const closed = `app-${compactStamp(now - 70 * MINUTE)}.log`;
      const open = `app-${compactStamp(now - 10 * MINUTE)}.log`;
      await write(path.join(dir, closed), 'x'.repeat(1000), now - 20 * MINUTE);
      await write(path.join(dir, open), 'y', now);
      const before = await ls(dir);
      const result = await runBin('logjam-compress', ['--check', dir]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.equal('');
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).to.match(
        new RegExp(
          `^OK: 1 file due for compression \\(1000 B\\), oldest 1[01]m \\(${path.join(await fs.realpath(dir), closed).replace(/[.]/g, '\\.')}\\) \\| files=1 bytes=1000B oldest_age=\\d+s;7200 ignored=0$`,
        ),
      );
      expect(await ls(dir), 'no archive/, no lock').to.deep.equal(before);
    });

    it('WARNING (exit 1) when the oldest has been due longer than --max-age (90m, 2h, 1d or seconds); UNKNOWN (3, one stdout line) for a bad --max-age', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, `app-${hourStamp(5)}.log`), 'old\n', Date.now() - 4 * HOUR);
      const late = await runBin('logjam-compress', ['--check', dir]);
      expect(late.code).to.equal(1);
      expect(late.stdout).to.match(/^WARNING: 1 file due for compression .* oldest 3h5\dm > --max-age 2h /);
      for (const maxAge of ['5h', '300m', '1d', '18000'])
        expect((await runBin('logjam-compress', ['--check', '--max-age', maxAge, dir])).code, maxAge).to.equal(0);
      expect((await runBin('logjam-compress', ['--check', '--max-age', '90m', dir])).code).to.equal(1);
      const bad = await runBin('logjam-compress', ['--check', '--max-age', 'soon', dir]);
      expect(bad.code).to.equal(3);
      expect(bad.stdout).to.match(/^UNKNOWN: --max-age takes a duration[^\n]*\n$/);
      expect(bad.stderr).to.equal('');
      const missing = await runBin('logjam-compress', ['--check', path.join(dir, 'nope')]);
      expect(missing.code).to.equal(3);
      expect(missing.stdout).to.match(/^UNKNOWN: LOG_DIR .*nope does not exist/);
    });

    it('OK: nothing due', async () => {
      const result = await runBin('logjam-compress', ['--check', await tmpDir()]);
      expect(result.code).to.equal(0);
      expect(result.stdout).to.equal(
        'OK: nothing due for compression | files=0 bytes=0B oldest_age=0s;7200 ignored=0\n',
      );
    });
  });

  describe('logjam-upload --check', () => {
    it('lists archives without a marker, with no network and no lock; exit 1 when the oldest is older than --max-age', async () => {
      const dir = path.join(await tmpDir(), 'archive');
      await write(path.join(dir, 'app-20240105T1300Z.log.gz'), 'a'.repeat(300), Date.now() - 3 * HOUR);
      await write(path.join(dir, 'app-20240105T1400Z.log.gz'), 'b'.repeat(200), Date.now() - 10 * MINUTE);
      await write(path.join(dir, 'app-20240105T1200Z.log.gz'), 'uploaded', Date.now() - 5 * HOUR);
      await write(path.join(dir, '.uploaded', 'app-20240105T1200Z.log.gz'), '', Date.now() - 5 * HOUR);
      const before = await ls(dir);
      // No credentials, no region, an endpoint that does not exist: nothing is asked of the network.
      const env = { AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
      const late = await runBin('logjam-upload', ['--check', dir, TEMPLATE], { env });
      expect(late.code, late.stderr).to.equal(1);
      expect(late.stdout.split('\n')[0]).to.match(
        /^WARNING: 2 files waiting for upload \(500 B\), oldest 3h > --max-age 2h \(.*app-20240105T1300Z\.log\.gz\) \| files=2 bytes=500B oldest_age=10\d\d\ds;7200$/,
      );
      const ok = await runBin('logjam-upload', ['--check', '--max-age', '4h', dir, TEMPLATE], { env });
      expect(ok.code).to.equal(0);
      expect(ok.stdout).to.match(/^OK: 2 files waiting for upload/);
      expect(await ls(dir)).to.deep.equal(before);
      const badTemplate = await runBin('logjam-upload', ['--check', dir, 's3://logs/{prefix}'], { env });
      expect(badTemplate.code).to.equal(3);
      expect(badTemplate.stdout).to.match(/^UNKNOWN: [^\n]*\n$/);
    });
  });

  describe('--metrics-file', () => {
    it('logjam-compress: counters add up across --once runs, gauges reflect the backlog, the file stays valid', async () => {
      const dir = await tmpDir();
      const metrics = path.join(await tmpDir(), 'logjam_compress.prom');
      const old = Date.now() - HOUR;
      await write(path.join(dir, `app-${hourStamp(5)}.log`), 'a'.repeat(1000), old);
      await write(path.join(dir, `app-${hourStamp(4)}.log`), 'b'.repeat(500), old);
      // Closed, but in its grace period: waiting, not due.
      await write(path.join(dir, `db-${hourStamp(3)}.log`), 'c'.repeat(100), Date.now());
      const first = await runBin('logjam-compress', ['--once', '--metrics-file', metrics, dir]);
      expect(first.code, first.stderr).to.equal(0);
      let m = await readMetrics(metrics);
      expect(m.get('logjam_compress_files_total')).to.equal(2);
      expect(m.get('logjam_compress_bytes_in_total')).to.equal(1500);
      expect(m.get('logjam_compress_bytes_out_total')).to.be.above(0);
      expect(m.get('logjam_compress_failures_total')).to.equal(0);
      expect(m.get('logjam_compress_backlog_files')).to.equal(0);
      expect(m.get('logjam_compress_pass_duration_seconds')).to.be.within(0, 30);
      const success = m.get('logjam_compress_last_success_timestamp_seconds')!;
      expect(success).to.be.within(Date.now() / 1000 - 60, Date.now() / 1000 + 1);
      const bytesOut = m.get('logjam_compress_bytes_out_total')!;

      // One more file due, and the grace period of db- ignored with --min-age 0.
      await write(path.join(dir, `app-${hourStamp(3)}.log`), 'd'.repeat(200), old);
      const second = await runBin('logjam-compress', ['--once', '--min-age', '0', '--metrics-file', metrics, dir]);
      expect(second.code, second.stderr).to.equal(0);
      m = await readMetrics(metrics);
      expect(m.get('logjam_compress_files_total')).to.equal(4);
      expect(m.get('logjam_compress_bytes_in_total')).to.equal(1800);
      expect(m.get('logjam_compress_bytes_out_total')).to.be.above(bytesOut);
      expect(m.get('logjam_compress_passes_total')).to.equal(2);
      expect(m.get('logjam_compress_last_success_timestamp_seconds')).to.be.at.least(success);
      expect(await ls(dir)).to.deep.equal(['archive']);
    });

    it('logjam-compress: the backlog gauges show a file that could not be compressed, and last success stays', async () => {
      const dir = await tmpDir();
      const metrics = path.join(await tmpDir(), 'm.prom');
      expect((await runBin('logjam-compress', ['--once', '--metrics-file', metrics, dir])).code).to.equal(0);
      const success = (await readMetrics(metrics)).get('logjam_compress_last_success_timestamp_seconds')!;
      // archive/ is a file: the directory cannot be done (a configuration error, exit 2).
      await fs.rm(path.join(dir, 'archive'), { recursive: true });
      await fs.writeFile(path.join(dir, 'archive'), 'not a directory');
      await write(path.join(dir, `app-${hourStamp(5)}.log`), 'a'.repeat(1000), Date.now() - 4 * HOUR);
      const failed = await runBin('logjam-compress', ['--once', '--metrics-file', metrics, dir]);
      expect(failed.code).to.equal(2);
      const m = await readMetrics(metrics);
      expect(m.get('logjam_compress_failures_total')).to.equal(1);
      expect(m.get('logjam_compress_backlog_files')).to.equal(1);
      expect(m.get('logjam_compress_backlog_bytes')).to.equal(1000);
      expect(m.get('logjam_compress_backlog_oldest_age_seconds')).to.be.within(3 * 3600, 4 * 3600);
      expect(m.get('logjam_compress_last_success_timestamp_seconds')).to.equal(success);
    });

    describe('logjam-upload', () => {
      const servers = useS3AndImds({ buckets: ['logs'] });

      it('counters add up across --once runs; failures and the backlog are counted; last success stays on failure', async () => {
        const dir = path.join(await tmpDir(), 'archive');
        const metrics = path.join(await tmpDir(), 'logjam_upload.prom');
        await write(path.join(dir, 'app-20240105T1300Z.log.gz'), 'a'.repeat(300), Date.now() - HOUR);
        await write(path.join(dir, 'app-20240105T1400Z.log.gz'), 'b'.repeat(200), Date.now() - HOUR);
        const home = await tmpDir();
        const upload = () =>
          runBin(
            'logjam-upload',
            [
              '--once',
              '--metrics-file',
              metrics,
              '--endpoint-url',
              servers.s3.endpoint,
              '--force-path-style',
              dir,
              's3://logs/metrics/{prefix}/{year}/{month}/{day}/{filename}',
            ],
            {
              cleanEnv: true,
              env: imdsEnv(servers.imds.endpoint, home),
            },
          );
        const first = await upload();
        expect(first.code, first.stderr).to.equal(0);
        let m = await readMetrics(metrics);
        expect(m.get('logjam_upload_files_total')).to.equal(2);
        expect(m.get('logjam_upload_bytes_total')).to.equal(500);
        expect(m.get('logjam_upload_failures_total')).to.equal(0);
        expect(m.get('logjam_upload_backlog_files')).to.equal(0);
        const success = m.get('logjam_upload_last_success_timestamp_seconds')!;
        expect(success).to.be.within(Date.now() / 1000 - 60, Date.now() / 1000 + 1);

        await write(path.join(dir, 'app-20240105T1500Z.log.gz'), 'c'.repeat(100), Date.now() - HOUR);
        await fs.symlink(path.join(dir, 'gone'), path.join(dir, 'app-20240105T1600Z.log.gz'));
        const second = await upload();
        expect(second.code).to.equal(1);
        m = await readMetrics(metrics);
        expect(m.get('logjam_upload_files_total')).to.equal(3);
        expect(m.get('logjam_upload_bytes_total')).to.equal(600);
        expect(m.get('logjam_upload_failures_total')).to.equal(1);
        expect(m.get('logjam_upload_passes_total')).to.equal(2);
        expect(m.get('logjam_upload_backlog_files')).to.equal(1);
        expect(m.get('logjam_upload_last_success_timestamp_seconds')).to.equal(success);
      });
    });
  });
});
