import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tryLock, waitLock } from '../src/lock.ts';
import { cleanupTmpDirs, tmpDir } from '../../../test/support/index.ts';

/** A pid that surely belongs to no running process: one that just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('directory lock', () => {
  afterEach(cleanupTmpDirs);

  it('is taken once, refused while held by a live process, free after release', async () => {
    const file = path.join(await tmpDir(), '.logjam-compress.lock');
    const first = await tryLock(file);
    expect(first.acquired).to.equal(true);
    expect(await fs.readFile(file, 'utf8')).to.equal(`${process.pid}\n`);
    // The parent of this process is alive: a lock it holds is refused.
    await fs.writeFile(path.join(path.dirname(file), 'other.lock'), `${process.ppid}\n`);
    const refused = await tryLock(path.join(path.dirname(file), 'other.lock'));
    expect(refused).to.deep.equal({ acquired: false, heldBy: process.ppid });
    if (first.acquired) await first.lock.release();
    expect(await fs.readdir(path.dirname(file))).to.deep.equal(['other.lock']);
  });

  it('takes over a lock left by a dead process at once', async () => {
    const file = path.join(await tmpDir(), '.lock');
    await fs.writeFile(file, `${deadPid()}\n`);
    const attempt = await tryLock(file);
    expect(attempt.acquired).to.equal(true);
    expect(await fs.readFile(file, 'utf8')).to.equal(`${process.pid}\n`);
  });

  it('takes over an old lock file without a pid, but not a fresh one', async () => {
    const file = path.join(await tmpDir(), '.lock');
    await fs.writeFile(file, '');
    expect((await tryLock(file)).acquired).to.equal(false);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(file, old, old);
    expect((await tryLock(file)).acquired).to.equal(true);
  });

  it('waits until the holder lets go, and gives up when aborted', async () => {
    const file = path.join(await tmpDir(), '.lock');
    await fs.writeFile(file, `${process.ppid}\n`);
    const stop = new AbortController();
    let told = 0;
    const waiting = waitLock(file, { pollMs: 20, signal: stop.signal, onWait: () => (told += 1) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await fs.rm(file);
    const lock = await waiting;
    expect(lock).to.not.equal(null);
    expect(told).to.equal(1);
    await lock!.release();
    await fs.writeFile(file, `${process.ppid}\n`);
    stop.abort();
    expect(await waitLock(file, { pollMs: 20, signal: stop.signal })).to.equal(null);
  });
});
