// What a large fleet relies on, through the built binary: --splay (a stable
// per-host wait, cut short by SIGTERM, allowed for by --check), throttling
// (503 SlowDown retried by the SDK; a host that is still refused leaves its
// files for the next run), and the request counts of every pass.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { formatAge, parseSamples, splayDelayMs } from '@logjam/core';
import { cleanupTmpDirs, compactStamp, ls, runBin, startBin, tmpDir, waitExit, waitFor } from './support/index.ts';
import { imdsEnv } from './support/imds.ts';
import { s3ErrorXml, startFaultProxy } from './support/proxy.ts';
import { describeEachServer, honouredConditionalWrites, useS3AndImds } from './support/servers.ts';

const BUCKET = 'logs';
const HOUR = 3_600_000;
/** A host name whose offset in a one-hour splay is more than half an hour: no test outlives it. */
const LATE_HOST = Array.from({ length: 100 }, (_, i) => `fleet-host-${i}`).find(
  (name) => splayDelayMs(name, 3600) > HOUR / 2,
)!;

describe('fleets: --splay, throttling, request counts (built binary, s3rver)', function () {
  this.timeout(60_000);
  const servers = useS3AndImds({ buckets: [BUCKET] });
  let home: string;
  let n = 0;

  before(async () => {
    home = await tmpDir('logjam-home-');
  });
  after(cleanupTmpDirs);

  /** An archive folder with `count` archives of past hours, each `age` old by mtime. */
  async function archive(count: number, ageMs = HOUR): Promise<string> {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    for (let i = 1; i <= count; i += 1) {
      const file = path.join(dir, `app-${compactStamp(hour - i * HOUR)}.log.gz`);
      await fs.writeFile(file, `archive ${i}\n`);
      const mtime = (Date.now() - ageMs) / 1000;
      await fs.utimes(file, mtime, mtime);
    }
    return dir;
  }
  const template = () => `s3://${BUCKET}/f${++n}/{prefix}/{year}/{month}/{day}/{filename}`;
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ cleanEnv: true, env: imdsEnv(servers.imds.endpoint, home, extra) });

  describe('--splay', () => {
    it("waits this host's own delay, the same on every run, and SIGTERM ends the wait at once (exit 1, files left, nothing sent)", async () => {
      const dir = await archive(2);
      const expected = formatAge(splayDelayMs(LATE_HOST, 3600));
      const requests = servers.s3.requests.length;
      for (let run = 0; run < 2; run += 1) {
        const child = startBin(
          'logjam-upload',
          [
            '--once',
            '--splay',
            '3600',
            '--hostname',
            LATE_HOST,
            '--endpoint-url',
            servers.s3.endpoint,
            '--force-path-style',
            dir,
            template(),
          ],
          env(),
        );
        await waitFor(() => child.output().stderr.includes('splay'), { what: 'the splay line' });
        child.kill('SIGTERM');
        const result = await waitExit(child, 10_000);
        expect(result.code, result.stderr).to.equal(1);
        expect(result.stderr).to.include(`waiting this host's splay of ${expected} before uploading files=2 splay=1h`);
        expect(result.stderr).to.match(/stopped during the splay; the files are left for the next run left=2/);
      }
      expect(servers.s3.requests.length).to.equal(requests);
      expect(await ls(dir)).not.to.include('.uploaded');
    });

    it('--splay takes a duration as every other (1h is 3600), and --check says the same splay figure as the run', async () => {
      const dir = await archive(1, 48 * HOUR);
      const delay = formatAge(splayDelayMs(LATE_HOST, 3600));
      const child = startBin(
        'logjam-upload',
        [
          '--once',
          '--splay',
          '1h',
          '--hostname',
          LATE_HOST,
          '--endpoint-url',
          servers.s3.endpoint,
          '--force-path-style',
          dir,
          template(),
        ],
        env(),
      );
      await waitFor(() => child.output().stderr.includes('splay'), { what: 'the splay line' });
      child.kill('SIGTERM');
      const run = await waitExit(child, 10_000);
      expect(run.stderr).to.include(`waiting this host's splay of ${delay} before uploading files=1 splay=1h`);
      const check = await runBin(
        'logjam-upload',
        ['--check', '--max-age', '1s', '--splay', '60m', '--hostname', LATE_HOST, dir, template()],
        env(),
      );
      expect(check.code, check.stdout).to.equal(1);
      expect(check.stdout).to.include(`> --max-age 1s + splay ${delay} (`);
    });

    it('LOGJAM_SPLAY sets it too; with nothing pending there is no wait', async () => {
      const dir = await archive(0);
      const result = await runBin(
        'logjam-upload',
        [
          '--once',
          '--hostname',
          LATE_HOST,
          '--endpoint-url',
          servers.s3.endpoint,
          '--force-path-style',
          dir,
          template(),
        ],
        env({ LOGJAM_SPLAY: '3600' }),
      );
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).not.to.include('splay');
      const pending = await archive(1);
      const child = startBin(
        'logjam-upload',
        [
          '--once',
          '--hostname',
          LATE_HOST,
          '--endpoint-url',
          servers.s3.endpoint,
          '--force-path-style',
          pending,
          template(),
        ],
        env({ LOGJAM_SPLAY: '3600' }),
      );
      await waitFor(() => child.output().stderr.includes('splay of'), { what: 'the splay line' });
      child.kill('SIGTERM');
      expect((await waitExit(child, 10_000)).code).to.equal(1);
    });

    it('service mode: a new archive waits for the splay (no PUT meanwhile); SIGTERM still stops at once', async () => {
      const dir = await archive(0);
      const child = startBin(
        'logjam-upload',
        [
          '--splay',
          '3600',
          '--log-level',
          'debug',
          '--hostname',
          LATE_HOST,
          '--endpoint-url',
          servers.s3.endpoint,
          '--force-path-style',
          dir,
          template(),
        ],
        env(),
      );
      await waitFor(() => child.output().stderr.includes('pass done'), { what: 'the first pass' });
      const writes = servers.s3.writes().length;
      await fs.writeFile(
        path.join(dir, `app-${compactStamp(Math.floor(Date.now() / HOUR) * HOUR - HOUR)}.log.gz`),
        'new\n',
      );
      await waitFor(() => child.output().stderr.includes("reacting after this host's splay"), { what: 'the reaction' });
      child.kill('SIGTERM');
      const result = await waitExit(child, 10_000);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.include(
        `new files; reacting after this host's splay of ${formatAge(splayDelayMs(LATE_HOST, 3600))}`,
      );
      expect(servers.s3.writes().length).to.equal(writes);
    });

    it("--check: an archive older than --max-age but within max-age plus the host's splay is not late", async () => {
      const offset = splayDelayMs(LATE_HOST, 3600);
      const dir = await archive(1, HOUR + offset / 2);
      const check = (extra: string[]) =>
        runBin(
          'logjam-upload',
          ['--check', '--max-age', '1h', '--hostname', LATE_HOST, ...extra, dir, template()],
          env(),
        );
      const without = await check([]);
      expect(without.code, without.stdout).to.equal(1);
      const withSplay = await check(['--splay', '3600']);
      expect(withSplay.code, withSplay.stdout).to.equal(0);
    });
  });

  describe('throttling', () => {
    it('503 SlowDown is retried by the SDK: every archive lands, and the pass counts the retries and the throttled answers', async () => {
      const proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        rule: (req, seen) =>
          req.method === 'PUT' && seen < 2
            ? { status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') }
            : 'pass',
      });
      try {
        const dir = await archive(2);
        const t = template();
        const result = await runBin(
          'logjam-upload',
          ['--once', '--conditional-writes', 'no', '--endpoint-url', proxy.endpoint, '--force-path-style', dir, t],
          env(),
        );
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stderr).to.match(
          /pass done pending=2 uploaded=2 .* requests="HEAD=3 PUT=6" retries=4 throttled=4/,
        );
        expect(await ls(path.join(dir, '.uploaded'))).to.have.length(2);
      } finally {
        await proxy.close();
      }
    });

    it('a host still refused after the retries exits 1: nothing marked, the files left for the next run, which uploads them', async () => {
      let refuse = true;
      const proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        rule: (req) =>
          refuse && req.method === 'PUT'
            ? { status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') }
            : 'pass',
      });
      try {
        const dir = await archive(6);
        const t = template();
        const metrics = path.join(await tmpDir(), 'upload.prom');
        const args = [
          '--once',
          '--jobs',
          '1',
          '--conditional-writes',
          'no',
          '--metrics-file',
          metrics,
          '--endpoint-url',
          proxy.endpoint,
          '--force-path-style',
          dir,
          t,
        ];
        const first = await runBin('logjam-upload', args, env());
        expect(first.code, first.stderr).to.equal(1);
        expect(first.stderr).to.match(
          /S3 is still throttling after the retries; leaving the remaining files for the next run left=5/,
        );
        expect(first.stderr).to.match(/pass done pending=6 uploaded=0 already=0 conflicts=0 failed=1 left=5 /);
        // .uploaded/ is made once the bucket answered; nothing is marked in it.
        expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([]);
        const samples = parseSamples(await fs.readFile(metrics, 'utf8'));
        expect(samples.get('logjam_upload_throttled_total')).to.equal(5);
        expect(samples.get('logjam_upload_retries_total')).to.equal(4);
        refuse = false;
        const second = await runBin('logjam-upload', args, env());
        expect(second.code, second.stderr).to.equal(0);
        expect(await ls(path.join(dir, '.uploaded'))).to.have.length(6);
        expect(await servers.s3.keys(BUCKET, t.split('/')[3])).to.have.length(6);
      } finally {
        await proxy.close();
      }
    });
  });

  it('bad --splay and --retry-mode values are usage errors (exit 2), naming the flag', async () => {
    const dir = await archive(0);
    const splay = await runBin('logjam-upload', ['--once', '--splay', '10 min', dir, template()], env());
    expect(splay.code).to.equal(2);
    expect(splay.stderr).to.include(
      "--splay takes a duration such as 90m, 2h, 7d or a number of seconds, not '10 min'",
    );
    const long = await runBin('logjam-upload', ['--once', '--splay', '2d', dir, template()], env());
    expect(long.code).to.equal(2);
    expect(long.stderr).to.include("--splay takes a duration from 0s to 86400s, not '2d'");
    const mode = await runBin('logjam-upload', ['--once', '--retry-mode', 'legacy', dir, template()], env());
    expect(mode.code).to.equal(2);
    expect(mode.stderr).to.match(/--retry-mode.*standard.*adaptive/);
  });

  describe('request counts', () => {
    it('each pass reports its requests by method, and the metrics file counts them across runs', async () => {
      const dir = await archive(3);
      const metrics = path.join(await tmpDir(), 'upload.prom');
      const result = await runBin(
        'logjam-upload',
        [
          '--once',
          '--conditional-writes',
          'no',
          '--metrics-file',
          metrics,
          '--endpoint-url',
          servers.s3.endpoint,
          '--force-path-style',
          dir,
          template(),
        ],
        env(),
      );
      expect(result.code, result.stderr).to.equal(0);
      // s3rver ignores If-None-Match: a HeadBucket, then a HEAD and a PUT per archive.
      expect(result.stderr).to.match(/pass done pending=3 uploaded=3 .* requests="HEAD=4 PUT=3" retries=0 throttled=0/);
      let samples = parseSamples(await fs.readFile(metrics, 'utf8'));
      expect(samples.get('logjam_upload_requests_total{method="PUT"}')).to.equal(3);
      expect(samples.get('logjam_upload_requests_total{method="HEAD"}')).to.equal(4);
      expect(samples.get('logjam_upload_requests_total{method="POST"}')).to.equal(0);
      await archive(0);
      const again = await runBin(
        'logjam-upload',
        [
          '--once',
          '--conditional-writes',
          'no',
          '--metrics-file',
          metrics,
          '--endpoint-url',
          servers.s3.endpoint,
          '--force-path-style',
          dir,
          template(),
        ],
        env(),
      );
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stderr).to.match(/pass done pending=0 .* requests="HEAD=1" /);
      samples = parseSamples(await fs.readFile(metrics, 'utf8'));
      expect(samples.get('logjam_upload_requests_total{method="HEAD"}')).to.equal(5);
    });
  });
});

describeEachServer('fleets: steady-state request counts (built binary)', (kind) => {
  const servers = useS3AndImds({ buckets: [BUCKET], server: kind });
  let home: string;

  before(async () => {
    home = await tmpDir('logjam-home-');
  });
  after(cleanupTmpDirs);

  it('a run with N new archives sends at most N + 1 requests to a store honouring conditional writes on PutObject: the HeadBucket, then one PUT each', async () => {
    // s3rver ignores If-None-Match: the proxy plays S3's. RGW honours it on PutObject itself.
    const proxy = await startFaultProxy({
      target: servers.s3.endpoint,
      conditionalWrites: servers.s3.playConditionalWrites,
    });
    try {
      const dir = path.join(await tmpDir(), 'archive');
      await fs.mkdir(dir);
      const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 2 * 86_400_000;
      const write = async (type: string, hours: number[]) => {
        for (const h of hours)
          await fs.writeFile(path.join(dir, `${type}-${compactStamp(day + h * HOUR)}.log.gz`), `${type} ${h}\n`);
      };
      // Four new archives of one type share a key folder: enough for a listing, which a PUT first makes needless.
      const t = `s3://${BUCKET}/steady-${kind}/{prefix}/{year}/{month}/{day}/{filename}`;
      const args = [
        '--once',
        ...honouredConditionalWrites(servers.s3, true),
        '--endpoint-url',
        proxy.endpoint,
        '--force-path-style',
        dir,
        t,
      ];
      const run = () => runBin('logjam-upload', args, { cleanEnv: true, env: imdsEnv(servers.imds.endpoint, home) });
      for (const type of ['app', 'db', 'web']) await write(type, [0, 1, 2, 3, 4, 5, 6]);
      const first = await run();
      expect(first.code, first.stderr).to.equal(0);
      proxy.requests.length = 0;
      await write('app', [7, 8, 9, 10]);
      await write('db', [7]);
      await write('web', [7]);
      const steady = await run();
      expect(steady.code, steady.stderr).to.equal(0);
      expect(steady.stderr).to.match(/pass done pending=6 uploaded=6 /);
      const byMethod: Record<string, number> = {};
      for (const r of proxy.requests) byMethod[r.method] = (byMethod[r.method] ?? 0) + 1;
      expect(byMethod).to.deep.equal({ HEAD: 1, PUT: 6 });
      expect(await servers.s3.keys(BUCKET, `steady-${kind}/`)).to.have.length(27);
    } finally {
      await proxy.close();
    }
  });
});
