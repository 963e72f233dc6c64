// The two services started together, as the deployment files do at boot, on a
// folder of closed logs: every archive logjam-compress makes is uploaded by the
// logjam-upload service within seconds, whatever the start order, never left
// to the rescan (an hour here). Start orders are set by barriers (a log line,
// the archives on disk, a request held at the S3 proxy), not by sleeps.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, ls, startBin, tmpDir, waitExit, waitFor } from './support/index.ts';
import { imdsEnv } from './support/imds.ts';
import { startFaultProxy, type FaultProxy } from './support/proxy.ts';
import { useS3AndImds } from './support/servers.ts';

type Child = ReturnType<typeof startBin>;
const LOGS = 5;
const HOUR = 3_600_000;
/** The bound on "at once": far below the rescan (an hour), with room for a busy machine. */
const WITHIN_MS = 10_000;

describe('logjam-compress and logjam-upload started together as services', function () {
  this.timeout(90_000);
  const servers = useS3AndImds({ buckets: ['logs'] });
  const children: Child[] = [];
  let proxy: FaultProxy;
  /** While set, every request to S3 waits for it (the upload service is held mid-start). */
  let held: Promise<void> | undefined;
  before(async () => {
    proxy = await startFaultProxy({ target: servers.s3.endpoint, gate: () => held ?? Promise.resolve() });
  });
  afterEach(() => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  after(async () => {
    await proxy?.close();
    await cleanupTmpDirs();
  });

  /** A LOG_DIR of closed hourly logs named PREFIX-…; their archives' names. */
  async function closedLogs(prefix: string): Promise<{ logDir: string; archives: string[] }> {
    const logDir = await tmpDir('logjam-startup-');
    const archives: string[] = [];
    const old = (Date.now() - 2 * HOUR) / 1000;
    for (let i = 0; i < LOGS; i++) {
      const name = `${prefix}-20240105T0${i}00Z.log`;
      await fs.writeFile(path.join(logDir, name), `${name}: a line\n`.repeat(200 * (i + 1)));
      await fs.utimes(path.join(logDir, name), old, old);
      archives.push(`${name}.gz`);
    }
    return { logDir, archives };
  }

  const startCompress = (logDir: string) => track(startBin('logjam-compress', ['--interval', '3600', logDir]));
  async function startUpload(logDir: string): Promise<Child> {
    const template = 's3://logs/startup/{prefix}/{year}/{month}/{day}/{filename}';
    const args = [
      '--interval',
      '3600',
      '--log-level',
      'debug',
      '--endpoint-url',
      proxy.endpoint,
      '--force-path-style',
      path.join(logDir, 'archive'),
      template,
    ];
    return track(
      startBin('logjam-upload', args, { cleanEnv: true, env: imdsEnv(servers.imds.endpoint, await tmpDir()) }),
    );
  }
  function track(child: Child): Child {
    children.push(child);
    return child;
  }

  /** Every archive in S3 within WITHIN_MS, byte for byte what logjam-compress wrote; the upload service still running; both stop cleanly. */
  async function expectAllUploaded(logDir: string, archives: string[], upload: Child, compress: Child): Promise<void> {
    const key = (name: string) => `startup/${name.split('-')[0]}/2024/01/05/${name}`;
    await waitFor(
      async () => (await Promise.all(archives.map((name) => servers.s3.head('logs', key(name))))).every(Boolean),
      {
        timeoutMs: WITHIN_MS,
        what: `the ${LOGS} archives in S3\n--- upload:\n${upload.output().stderr}\n--- compress:\n${compress.output().stderr}`,
      },
    );
    for (const name of archives) {
      expect(
        Buffer.compare(
          await servers.s3.download('logs', key(name)),
          await fs.readFile(path.join(logDir, 'archive', name)),
        ),
        name,
      ).to.equal(0);
    }
    expect(upload.exitCode, upload.output().stderr).to.equal(null);
    for (const child of [upload, compress]) {
      child.kill('SIGTERM');
      const result = await waitExit(child, 30_000);
      expect(result.code, result.stderr).to.equal(0);
    }
  }

  it('upload first, before archive/ exists: it says once that it waits for the folder, then uploads what compress makes', async () => {
    const { logDir, archives } = await closedLogs('first');
    const upload = await startUpload(logDir);
    await waitFor(() => /does not exist yet; waiting for it/.test(upload.output().stderr), {
      what: 'the upload service waiting for archive/',
    });
    const compress = startCompress(logDir);
    await expectAllUploaded(logDir, archives, upload, compress);
    expect(upload.output().stderr.match(/does not exist yet/g)).to.have.length(1);
  });

  it('compress first: upload started once every archive is in archive/', async () => {
    const { logDir, archives } = await closedLogs('second');
    const compress = startCompress(logDir);
    await waitFor(
      async () =>
        (await ls(path.join(logDir, 'archive')).catch(() => [])).filter((n) => n.endsWith('.gz')).length === LOGS,
      { what: 'the archives' },
    );
    const upload = await startUpload(logDir);
    await expectAllUploaded(logDir, archives, upload, compress);
  });

  it('both started in the same instant', async () => {
    const { logDir, archives } = await closedLogs('together');
    const [upload, compress] = [await startUpload(logDir), startCompress(logDir)];
    await expectAllUploaded(logDir, archives, upload, compress);
  });

  it("upload's first pass done over an empty archive/, then compress: the watch sees archives linked into place", async () => {
    const { logDir, archives } = await closedLogs('linked');
    await fs.mkdir(path.join(logDir, 'archive'));
    const upload = await startUpload(logDir);
    await waitFor(() => /pass done/.test(upload.output().stderr), { what: "the upload service's first pass" });
    const compress = startCompress(logDir);
    await expectAllUploaded(logDir, archives, upload, compress);
  });

  it("archives that appear while the upload service's pass connects (after its listing) go up at once", async () => {
    const { logDir, archives } = await closedLogs('connecting');
    await fs.mkdir(path.join(logDir, 'archive'));
    let release = () => {};
    held = new Promise<void>((resolve) => (release = resolve));
    try {
      const before = proxy.requests.length;
      const upload = await startUpload(logDir);
      // Its first request to S3 (the bucket check) is held: it has listed archive/ and is connecting.
      await waitFor(() => proxy.requests.length > before, { what: "the upload service's first request" });
      const compress = startCompress(logDir);
      await waitFor(
        async () => (await ls(path.join(logDir, 'archive'))).filter((n) => n.endsWith('.gz')).length === LOGS,
        { what: 'the archives' },
      );
      // The service's watch has seen them while its pass is held: the next pass is due the moment this one ends.
      await waitFor(() => /new files: a pass is due/.test(upload.output().stderr), { what: 'the wake' });
      release();
      await expectAllUploaded(logDir, archives, upload, compress);
    } finally {
      release();
      held = undefined;
    }
  });

  it('--once keeps its behaviour: a missing archive/ is a configuration error (exit 2); the waiting service stops cleanly on SIGTERM', async () => {
    const { logDir } = await closedLogs('once');
    const args = [
      '--once',
      '--endpoint-url',
      proxy.endpoint,
      '--force-path-style',
      path.join(logDir, 'archive'),
      's3://logs/startup/{prefix}/{year}/{month}/{day}/{filename}',
    ];
    const once = await waitExit(
      track(startBin('logjam-upload', args, { cleanEnv: true, env: imdsEnv(servers.imds.endpoint, await tmpDir()) })),
    );
    expect(once.code, once.stderr).to.equal(2);
    expect(once.stderr).to.include('no such folder');
    const upload = await startUpload(logDir);
    await waitFor(() => /does not exist yet; waiting for it/.test(upload.output().stderr), {
      what: 'the upload service waiting for archive/',
    });
    upload.kill('SIGTERM');
    const stopped = await waitExit(upload, 30_000);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(await ls(logDir)).not.to.include('archive');
  });
});
