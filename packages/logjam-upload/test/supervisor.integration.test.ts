// The upload service as a supervisor (supervisor.ts, core's service-pass.ts):
// each pass with archives is a --once child handed the service's lock, so the
// service itself holds no connection and no SDK between passes. The built
// binary against s3rver behind a proxy whose gate holds a pass mid-request;
// the children are found through /proc. A pass killed is the next pass's work,
// nothing lost or doubled; the variable that marks a pass grants nothing by
// itself: a lock not held through the descriptor it names is refused.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { promises as fs, openSync, closeSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  binaries,
  cleanupTmpDirs,
  startBin,
  tmpDir,
  waitExit,
  waitFor,
  type RunResult,
} from '../../../test/support/index.ts';
import { leanServiceSupported } from '@logjam/core';
import { imdsEnv } from '../../../test/support/imds.ts';
import { startFaultProxy, type FaultProxy } from '../../../test/support/proxy.ts';
import { useS3AndImds } from '../../../test/support/servers.ts';

type Child = ReturnType<typeof startBin>;
const BUCKET = 'logs';
const TEMPLATE = `s3://${BUCKET}/supervised/{prefix}/{year}/{month}/{day}/{filename}`;
const keyOf = (name: string) => `supervised/${name.split('-')[0]}/2024/01/05/${name}`;

/** The markers in ARCHIVE_DIR/.uploaded/ (not its dot files: the store's profile). */
const markers = async (dir: string): Promise<string[]> =>
  (await fs.readdir(path.join(dir, '.uploaded')).catch((): string[] => [])).filter((name) => !name.startsWith('.'));

/** The live children of `pid`, with their command lines and environments. */
function childrenOf(pid: number): Array<{ pid: number; argv: string[]; env: string[] }> {
  const listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return listed
    ? listed.split(/\s+/).map((child) => ({
        pid: Number(child),
        argv: readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean),
        env: readFileSync(`/proc/${child}/environ`, 'utf8').split('\0').filter(Boolean),
      }))
    : [];
}

/** What the descriptors of `pid` beyond stdin, stdout and stderr are: `socket:[…]`, `pipe:[…]`, paths. */
const descriptorsOf = (pid: number): string[] =>
  readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    if (Number(fd) <= 2) return [];
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return [];
    }
  });

describe('logjam-upload service: each pass with archives is a --once child holding the service lock', function () {
  this.timeout(90_000);
  const servers = useS3AndImds({ buckets: [BUCKET] });
  const children: Child[] = [];
  let proxy: FaultProxy;
  /** While set, every request to S3 waits for it: a pass is held mid-request. */
  let held: Promise<void> | undefined;
  let release = () => {};
  before(async () => {
    proxy = await startFaultProxy({ target: servers.s3.endpoint, gate: () => held ?? Promise.resolve() });
  });
  afterEach(() => {
    release();
    held = undefined;
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  after(async () => {
    await proxy?.close();
    await cleanupTmpDirs();
  });

  function hold(): void {
    held = new Promise<void>((resolve) => (release = resolve));
  }

  async function archiveDir(names: string[]): Promise<string> {
    const dir = path.join(await tmpDir('logjam-supervised-'), 'archive');
    await fs.mkdir(dir);
    for (const name of names) await fs.writeFile(path.join(dir, name), `${name}: some bytes\n`.repeat(50));
    return dir;
  }

  async function startService(dir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Child> {
    const args = [
      '--interval',
      '3600',
      '--log-level',
      'debug',
      '--endpoint-url',
      proxy.endpoint,
      '--force-path-style',
      ...extra,
      dir,
      TEMPLATE,
    ];
    const child = startBin('logjam-upload', args, {
      cleanEnv: true,
      env: { ...imdsEnv(servers.imds.endpoint, await tmpDir()), ...env },
    });
    children.push(child);
    return child;
  }

  /** The object at `name`'s key is the archive, byte for byte. */
  async function expectUploaded(dir: string, name: string): Promise<void> {
    const object = await servers.s3.download(BUCKET, keyOf(name));
    expect(Buffer.compare(object, await fs.readFile(path.join(dir, name))), name).to.equal(0);
  }

  it('the pass runs in a --once child given the lock as descriptor 3; the service holds no socket; the child is gone after it', async () => {
    const name = 'app-20240105T0100Z.log.gz';
    const dir = await archiveDir([name]);
    hold();
    const before = proxy.requests.length;
    const service = await startService(dir);
    await waitFor(() => proxy.requests.length > before && childrenOf(service.pid!).length > 0, {
      what: "the pass's first request",
    });

    const [pass, ...others] = childrenOf(service.pid!);
    expect(others, 'one pass at a time').to.deep.equal([]);
    expect(pass!.argv.at(-1)).to.equal('--once');
    expect(pass!.env).to.include('LOGJAM_SERVICE_PASS=3');
    // The service itself may run with --jitless (core's lean-service.ts): none of it reaches the pass.
    expect(pass!.env.filter((entry) => /^(NODE_OPTIONS|LOGJAM_LEAN_SERVICE)=/.test(entry))).to.deep.equal([]);
    expect(readlinkSync(`/proc/${pass!.pid}/fd/3`)).to.equal(path.join(dir, '.logjam-upload.lock'));
    expect(descriptorsOf(service.pid!).filter((fd) => fd.startsWith('socket:'))).to.deep.equal([]);

    release();
    await waitFor(() => /"?pass done"?/.test(service.output().stderr) && childrenOf(service.pid!).length === 0, {
      what: 'the pass done and its child gone',
    });
    await expectUploaded(dir, name);
    expect(descriptorsOf(service.pid!).filter((fd) => fd.startsWith('socket:'))).to.deep.equal([]);
    service.kill('SIGTERM');
    const stopped = await waitExit(service, 30_000);
    expect(stopped.code, stopped.stderr).to.equal(0);
  });

  it("runs without V8's JIT, started again in place (the same pid); its passes get NODE_OPTIONS back as it was given", async function () {
    // Node 24 and later (core's lean-service.ts says why). Before, the service runs as started (its other tests).
    if (!leanServiceSupported()) this.skip();
    const name = 'app-20240105T0500Z.log.gz';
    const dir = await archiveDir([name]);
    hold();
    const before = proxy.requests.length;
    const given = '--max-http-header-size=16385';
    const service = await startService(dir, [], { NODE_OPTIONS: given });
    await waitFor(() => proxy.requests.length > before && childrenOf(service.pid!).length > 0, {
      what: "the pass's first request",
    });
    const environ = readFileSync(`/proc/${service.pid}/environ`, 'utf8').split('\0');
    expect(environ, 'the service, as it runs now').to.include(`NODE_OPTIONS=${given} --jitless --no-warnings`);
    const [pass] = childrenOf(service.pid!);
    expect(pass!.env, 'the pass').to.include(`NODE_OPTIONS=${given}`);
    expect(
      pass!.env.filter((entry) => /^LOGJAM_LEAN_SERVICE=/.test(entry)),
      'the pass',
    ).to.deep.equal([]);

    release();
    await waitFor(async () => (await markers(dir)).includes(name), { what: `the marker\n${service.output().stderr}` });
    await expectUploaded(dir, name);
    service.kill('SIGTERM');
    const stopped = await waitExit(service, 30_000);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(stopped.stderr, 'no warning').not.to.match(/warn|LOGJAM_LEAN_SERVICE/i);
  });

  it('a pass child killed mid-upload: the service says so, goes on, and the next pass uploads the archive once', async () => {
    const first = 'app-20240105T0200Z.log.gz';
    const dir = await archiveDir([first]);
    hold();
    const before = proxy.requests.length;
    const service = await startService(dir);
    await waitFor(() => proxy.requests.length > before && childrenOf(service.pid!).length > 0, {
      what: "the pass's first request",
    });
    const [pass] = childrenOf(service.pid!);
    process.kill(pass!.pid, 'SIGKILL');
    await waitFor(() => /the pass ended by SIGKILL/.test(service.output().stderr), { what: 'the kill said' });
    release();
    held = undefined;

    // A new archive wakes the service: that pass uploads both.
    const second = 'app-20240105T0300Z.log.gz';
    await fs.writeFile(path.join(dir, '.second.tmp'), 'the second archive\n');
    await fs.rename(path.join(dir, '.second.tmp'), path.join(dir, second));
    await waitFor(async () => (await markers(dir)).length === 2, {
      what: `both markers\n${service.output().stderr}`,
    });
    await expectUploaded(dir, first);
    await expectUploaded(dir, second);
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes('0300Z') && r.status === 200);
    expect(puts, 'the second archive written once').to.have.length(1);
    expect(service.exitCode, service.output().stderr).to.equal(null);
    service.kill('SIGTERM');
    expect((await waitExit(service, 30_000)).code).to.equal(0);
  });

  it('SIGTERM while a pass runs: passed on to the child, which stops its request; both end, exit 0', async () => {
    const dir = await archiveDir(['app-20240105T0400Z.log.gz']);
    hold(); // never released: only a stop passed on ends the child's request
    const before = proxy.requests.length;
    const service = await startService(dir);
    await waitFor(() => proxy.requests.length > before && childrenOf(service.pid!).length > 0, {
      what: "the pass's first request",
    });
    const [pass] = childrenOf(service.pid!);
    service.kill('SIGTERM');
    const stopped = await waitExit(service, 30_000);
    expect(stopped.code, `${stopped.signal}\n${stopped.stderr}`).to.equal(0);
    expect(() => readFileSync(`/proc/${pass!.pid}/stat`), 'the pass child is gone').to.throw();
    expect(await markers(dir), 'no marker').to.deep.equal([]);
  });

  it('a configuration error at its first pass (a bucket that does not exist) ends the service: exit 2, the one line the pass said', async () => {
    const dir = await archiveDir(['app-20240105T0700Z.log.gz']);
    const template = 's3://no-such-bucket/{prefix}/{year}/{month}/{day}/{filename}';
    const service = startBin(
      'logjam-upload',
      ['--interval', '3600', '--endpoint-url', proxy.endpoint, '--force-path-style', dir, template],
      { cleanEnv: true, env: imdsEnv(servers.imds.endpoint, await tmpDir()) },
    );
    children.push(service);
    const result = await waitExit(service, 30_000);
    expect(result.code, result.stderr).to.equal(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).to.have.length(1);
    expect(lines[0]).to.match(/ CRITICAL .*no-such-bucket.* exit=2$/);
  });

  describe('LOGJAM_SERVICE_PASS grants nothing by itself', () => {
    /** Runs `logjam-upload --once` with LOGJAM_SERVICE_PASS=3 and `fd` as its descriptor 3. */
    async function runAsPass(dir: string, fd: number | 'ignore'): Promise<RunResult> {
      const child = spawn(
        process.execPath,
        [binaries['logjam-upload'], '--once', '--endpoint-url', proxy.endpoint, '--force-path-style', dir, TEMPLATE],
        {
          env: { ...imdsEnv(servers.imds.endpoint, await tmpDir()), PATH: process.env.PATH, LOGJAM_SERVICE_PASS: '3' },
          stdio: ['ignore', 'pipe', 'pipe', fd],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    }

    async function expectRefused(dir: string, result: RunResult, why: RegExp): Promise<void> {
      const lines = result.stderr.trim().split('\n');
      expect(result.code, result.stderr).to.equal(2);
      expect(lines, result.stderr).to.have.length(1);
      expect(lines[0]).to.match(/LOGJAM_SERVICE_PASS=3/);
      expect(lines[0]).to.match(why);
      expect(await markers(dir)).to.deep.equal([]);
    }

    it('descriptor 3 another file, or none: exit 2, one line, nothing uploaded', async () => {
      const dir = await archiveDir(['app-20240105T0500Z.log.gz']);
      const other = path.join(path.dirname(dir), 'other');
      await fs.writeFile(other, 'not the lock\n');
      const fd = openSync(other, 'r');
      try {
        await expectRefused(dir, await runAsPass(dir, fd), /descriptor 3 is not the lock/);
      } finally {
        closeSync(fd);
      }
      await expectRefused(dir, await runAsPass(dir, 'ignore'), /descriptor 3 is not the lock/);
    });

    it('the lock file itself, opened anew while a service holds the lock: not held through it, exit 2', async () => {
      const dir = await archiveDir([]);
      const service = await startService(dir);
      await waitFor(() => /pass done/.test(service.output().stderr), { what: "the service's first pass" });
      const fd = openSync(path.join(dir, '.logjam-upload.lock'), 'r');
      try {
        await expectRefused(dir, await runAsPass(dir, fd), /is not held through it/);
      } finally {
        closeSync(fd);
      }
      service.kill('SIGTERM');
      expect((await waitExit(service, 30_000)).code).to.equal(0);
    });
  });
});
