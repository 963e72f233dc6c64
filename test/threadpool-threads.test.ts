// libuv's threadpool is sized from --jobs by the binaries' CommonJS launchers:
// a running logjam-compress has jobs + 2 pool threads (at least 4), unless
// UV_THREADPOOL_SIZE was set, which wins. Counted in /proc/<pid>/task (Linux).
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, exists, startBin, tmpDir, waitExit, waitFor, type RunOptions } from './support/index.ts';

const LOG = 'app-20240101T0000Z.log';

/** Threads of a logjam-compress service once its first pass has compressed a file (the pool has started then). */
async function serviceThreads(args: string[], env: RunOptions['env'] = {}): Promise<number> {
  const dir = await tmpDir();
  await fs.writeFile(path.join(dir, LOG), 'a line\n'.repeat(1000));
  const child = startBin('logjam-compress', ['--min-age', '0', ...args, dir], { cleanEnv: true, env });
  try {
    await waitFor(() => exists(path.join(dir, 'archive', `${LOG}.gz`)), {
      timeoutMs: 30_000,
      what: `the archive of ${LOG}`,
    });
    const threads = (await fs.readdir(`/proc/${child.pid}/task`)).length;
    child.kill('SIGTERM');
    const result = await waitExit(child, 30_000);
    expect(result.code, result.stderr).to.equal(0);
    return threads;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe('libuv threadpool sized from --jobs', function () {
  before(function () {
    if (process.platform !== 'linux') this.skip();
  });
  after(cleanupTmpDirs);

  it('--jobs 8 runs 6 more pool threads than --jobs 1 (10 against 4), and LOGJAM_JOBS counts as --jobs', async () => {
    const one = await serviceThreads(['--jobs', '1']);
    const eight = await serviceThreads(['--jobs', '8']);
    expect(eight - one).to.equal(6);
    expect(await serviceThreads([], { LOGJAM_JOBS: '8' })).to.equal(eight);
    expect(await serviceThreads(['--jobs=8'])).to.equal(eight);
  });

  it('an explicit UV_THREADPOOL_SIZE wins over --jobs', async () => {
    const one = await serviceThreads(['--jobs', '1']);
    expect(await serviceThreads(['--jobs', '8'], { UV_THREADPOOL_SIZE: '4' })).to.equal(one);
    expect(await serviceThreads(['--jobs', '1'], { UV_THREADPOOL_SIZE: '9' })).to.equal(one + 5);
  });
});
