// Error reporting through the built binaries: with SENTRY_DSN, every error
// that fails a file, a pass or the start reaches Sentry (here a fake ingest
// endpoint) with the binary, the directory and the file as tags; without it,
// @sentry/node is never even loaded.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { binaries, cleanupTmpDirs, resolveHookFile, runBin, tmpDir, waitFor } from './support/index.ts';
import { closedEndpoint, imdsEnv, startFakeImds, type FakeImds } from './support/imds.ts';
import { startS3, type TestS3 } from './support/s3.ts';
import { startFakeSentry, type FakeSentry, type SentryEvent } from './support/sentry.ts';

const OLD = Date.now() / 1000 - 3600;

/** A log directory where `app-20240101T0000Z.log` fails: its archive name and all 25 duplicate names hold other content. */
async function failingLogDir(): Promise<{ dir: string; name: string }> {
  const dir = await tmpDir();
  const name = 'app-20240101T0000Z.log';
  await fs.mkdir(path.join(dir, 'archive'));
  const taken = [`${name}.gz`, 'app-logjam-compress-duplicate-timestamp-20240101T0000Z.log.gz'];
  for (let i = 1; i <= 24; i += 1)
    taken.push(`app-logjam-compress-duplicate-timestamp-${String(i).padStart(2, '0')}-20240101T0000Z.log.gz`);
  for (const [i, archive] of taken.entries())
    await fs.writeFile(path.join(dir, 'archive', archive), zlib.gzipSync(`other ${i}\n`));
  await fs.writeFile(path.join(dir, name), 'the 27th version\n');
  await fs.utimes(path.join(dir, name), OLD, OLD);
  return { dir, name };
}

function message(event: SentryEvent): string {
  return event.exception?.values?.map((v) => v.value).join(' ') ?? event.message ?? '';
}

describe('Sentry error reporting (built binaries, fake ingest endpoint)', function () {
  this.timeout(60_000);
  let sentry: FakeSentry;
  let s3: TestS3;
  let imds: FakeImds;
  let home: string;

  before(async () => {
    sentry = await startFakeSentry();
    s3 = await startS3({ buckets: ['logs'] });
    imds = await startFakeImds();
    home = await tmpDir('logjam-home-');
  });
  beforeEach(() => {
    sentry.events.length = 0;
  });
  after(async () => {
    await sentry?.close();
    await s3?.close();
    await imds?.close();
    await cleanupTmpDirs();
  });

  async function archiveDir(files: Record<string, string>): Promise<string> {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
    return dir;
  }
  const upload = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runBin('logjam-upload', ['--once', '--endpoint-url', s3.endpoint, '--force-path-style', ...args], {
      cleanEnv: true,
      env: imdsEnv(imds.endpoint, home, env),
    });

  it('logjam-upload: a missing bucket (exit 2) is reported, tagged, before exiting', async () => {
    const dir = await archiveDir({ 'app-20240105T1300Z.log.gz': 'x' });
    const result = await upload([dir, 's3://no-such-bucket/{prefix}/{year}/{month}/{day}/{filename}'], {
      SENTRY_DSN: sentry.dsn,
    });
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1);
    // Flushed before exiting: the event is already there.
    expect(sentry.events).to.have.length(1);
    const [event] = sentry.events;
    expect(message(event!)).to.match(/bucket 'no-such-bucket' does not exist/);
    expect(event!.tags).to.include({ binary: 'logjam-upload', directory: dir });
    expect(event!.release).to.equal('logjam-upload@0.1.0');
  });

  it('logjam-upload: a file that fails is reported with its directory and name; the others are uploaded', async () => {
    const dir = await archiveDir({ 'app-20240105T1300Z.log.gz': 'good\n' });
    await fs.symlink(path.join(dir, 'gone'), path.join(dir, 'app-20240105T1400Z.log.gz'));
    const result = await upload([dir, 's3://logs/sentry/{prefix}/{year}/{month}/{day}/{filename}'], {
      SENTRY_DSN: sentry.dsn,
    });
    expect(result.code, result.stderr).to.equal(1);
    expect(sentry.events).to.have.length(1);
    expect(sentry.events[0]!.tags).to.include({
      binary: 'logjam-upload',
      directory: dir,
      file: 'app-20240105T1400Z.log.gz',
    });
    expect(message(sentry.events[0]!)).to.include('app-20240105T1400Z.log.gz');
  });

  it('logjam-compress: a file that fails is reported with its directory and name', async () => {
    const { dir, name } = await failingLogDir();
    const result = await runBin('logjam-compress', ['--once', dir], { env: { SENTRY_DSN: sentry.dsn } });
    expect(result.code, result.stderr).to.equal(1);
    expect(sentry.events).to.have.length(1);
    const [event] = sentry.events;
    expect(event!.tags).to.include({ binary: 'logjam-compress', directory: await fs.realpath(dir), file: name });
    expect(message(event!)).to.match(/all 25 duplicate-timestamp names exist with other content/);
  });

  it('logjam-compress: a start-up error (missing LOG_DIR, exit 2) is reported too', async () => {
    const missing = path.join(await tmpDir(), 'nope');
    const result = await runBin('logjam-compress', ['--once', missing], { env: { SENTRY_DSN: sentry.dsn } });
    expect(result.code).to.equal(2);
    await waitFor(() => sentry.events.length === 1, { what: 'the event' });
    expect(sentry.events[0]!.tags).to.include({ binary: 'logjam-compress', directory: missing });
    expect(message(sentry.events[0]!)).to.match(/does not exist/);
  });

  it('a DSN pointing at nothing does not hang or change the exit code', async () => {
    const { dir } = await failingLogDir();
    const dsn = (await closedEndpoint()).replace('http://', 'http://key@') + '/1';
    const started = Date.now();
    const result = await runBin('logjam-compress', ['--once', dir], { env: { SENTRY_DSN: dsn }, timeoutMs: 20_000 });
    expect(result.code).to.equal(1);
    expect(Date.now() - started).to.be.below(10_000);
    expect(result.stderr).not.to.match(/\n\s+at /);
  });

  describe('without SENTRY_DSN, @sentry/node is never loaded', () => {
    let hook: string;
    before(async () => {
      // A module resolution hook that fails any import of @sentry/*: preloaded with --import.
      hook = await resolveHookFile(
        'no-sentry.mjs',
        `export async function resolve(specifier, context, next) { if (specifier.startsWith('@sentry/')) throw new Error('@sentry/node was loaded'); return next(specifier, context); }`,
      );
    });

    it('the bundles import it only lazily (a dynamic import), never statically', async () => {
      // The programs themselves (bin/*.mjs), not their launchers (bin/*.cjs, which import only node: built-ins).
      for (const bundle of Object.values(binaries).map((launcher) => launcher.replace(/\.cjs$/, '.mjs'))) {
        const text = await fs.readFile(bundle, 'utf8');
        expect(text, bundle).to.include('import("@sentry/node")');
        expect(text, bundle).not.to.match(/(^|\n)\s*import\s[^;(]*["']@sentry\//);
      }
    });

    it('a pass runs with @sentry/* unresolvable; with a DSN the same setup shows it would be loaded', async () => {
      const { dir } = await failingLogDir();
      const env = { NODE_OPTIONS: `--import ${hook}`, SENTRY_DSN: '' };
      const without = await runBin('logjam-compress', ['--once', dir], { env });
      expect(without.code, without.stderr).to.equal(1);
      expect(without.stderr).not.to.include('Sentry');
      const upload = await runBin(
        'logjam-upload',
        ['--check', path.join(dir, 'archive'), 's3://logs/{prefix}/{year}/{month}/{day}/{filename}'],
        { env },
      );
      expect(upload.stderr).not.to.include('Sentry');
      const withDsn = await runBin('logjam-compress', ['--once', dir], { env: { ...env, SENTRY_DSN: sentry.dsn } });
      expect(withDsn.stderr).to.match(/SENTRY_DSN is set but Sentry could not start.*@sentry\/node was loaded/);
    });
  });
});
