import { expect } from 'chai';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { judgeLock, tryLock, waitLock, type PidState } from '../src/lock.ts';
import { ConfigError } from '../src/errors.ts';
import { cleanupTmpDirs, startLockHolder, tmpDir, waitFor } from '../../../test/support/index.ts';
import { holdLock } from '../../../test/support/lock-holder.ts';

const OWNER = 'logjam-lock-test';

describe('directory lock (held by the kernel: flock)', () => {
  const holders: ChildProcess[] = [];
  afterEach(async () => {
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
    await cleanupTmpDirs();
  });
  async function hold(file: string, program = OWNER): Promise<ChildProcess & { pid: number }> {
    const child = await holdLock(file, program);
    holders.push(child);
    return child;
  }
  const exited = (child: ChildProcess) =>
    new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve),
    );

  it('is taken once, refused while another process holds it (its pid said), free after release; the pid is in the file', async () => {
    const file = path.join(await tmpDir(), '.logjam-compress.lock');
    const first = await tryLock(file, { owner: OWNER });
    expect(first.acquired).to.equal(true);
    expect(await fs.readFile(file, 'utf8')).to.equal(`${process.pid}\n`);
    const other = path.join(path.dirname(file), 'other.lock');
    const holder = await hold(other);
    expect(await tryLock(other, { owner: OWNER })).to.deep.equal({ acquired: false, heldBy: holder.pid });
    if (first.acquired) await first.lock.release();
    expect(await fs.readdir(path.dirname(file))).to.deep.equal(['other.lock']);
  });

  it('a holder that dies lets go at once: its lock is taken over, saying what it held', async () => {
    const file = path.join(await tmpDir(), '.lock');
    const holder = await hold(file);
    holder.kill('SIGKILL');
    await exited(holder);
    const attempt = await tryLock(file, { owner: OWNER });
    expect(attempt.acquired && attempt.tookOver).to.equal(
      `it held pid ${holder.pid}, but no process held the lock (left by a run that was killed?)`,
    );
    expect(await fs.readFile(file, 'utf8')).to.equal(`${process.pid}\n`);
  });

  it('neither a running process named like the owner nor a reused pid in the file holds the lock: only the kernel lock counts', async () => {
    const file = path.join(await tmpDir(), '.lock');
    const impostor = startLockHolder(OWNER);
    holders.push(impostor);
    await fs.writeFile(file, `${impostor.pid}\n`);
    const attempt = await tryLock(file, { owner: OWNER });
    expect(attempt.acquired && attempt.tookOver).to.equal(
      `it held pid ${impostor.pid}, but no process held the lock (left by a run that was killed?)`,
    );
    const garbage = path.join(path.dirname(file), 'garbage.lock');
    await fs.writeFile(garbage, 'garbage\n');
    const second = await tryLock(garbage, { owner: OWNER });
    expect(second.acquired && second.tookOver).to.equal(
      'it held "garbage", not a pid, but no process held the lock (left by a run that was killed?)',
    );
  });

  it('refuses a lock that is a symbolic link, and leaves its target alone', async () => {
    const dir = await tmpDir();
    const target = path.join(dir, 'busy.log');
    await fs.writeFile(target, 'busy\n');
    await fs.symlink(target, path.join(dir, '.lock'));
    const error = await tryLock(path.join(dir, '.lock'), { owner: OWNER }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.equal(
      `the lock ${path.join(dir, '.lock')} is a symbolic link, which logjam never follows: remove it (logjam makes its lock itself)`,
    );
    expect(await fs.readFile(target, 'utf8')).to.equal('busy\n');
  });

  it('refuses a lock that is not a regular file (a folder, a FIFO: the open does not block)', async () => {
    const dir = await tmpDir();
    await fs.mkdir(path.join(dir, '.lock'));
    const error = await tryLock(path.join(dir, '.lock'), { owner: OWNER }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.equal(
      `the lock ${path.join(dir, '.lock')} is not a regular file: remove it (logjam makes its lock itself)`,
    );
    spawnSync('mkfifo', [path.join(dir, 'fifo.lock')]);
    const fifo = await tryLock(path.join(dir, 'fifo.lock'), { owner: OWNER }).catch((e: unknown) => e);
    expect((fifo as Error).message).to.include('is not a regular file');
  });

  it('waits until the holder lets go, and gives up when aborted', async () => {
    const file = path.join(await tmpDir(), '.lock');
    const holder = await hold(file);
    const stop = new AbortController();
    let told = 0;
    const waiting = waitLock(file, { owner: OWNER, pollMs: 20, signal: stop.signal, onWait: () => (told += 1) });
    await waitFor(() => told === 1 || null, { what: 'the wait to start' });
    holder.kill('SIGKILL');
    const lock = await waiting;
    expect(lock).to.not.equal(null);
    expect(told).to.equal(1);
    await lock!.release();
    await hold(file);
    stop.abort();
    expect(await waitLock(file, { owner: OWNER, pollMs: 20, signal: stop.signal })).to.equal(null);
  });
});

describe('judgeLock (whose lock it is, with injected process states)', () => {
  const base = { ownPid: 100, settleMs: 10_000, owner: 'logjam-compress' };
  const states = (map: Record<number, PidState>) => (pid: number) => map[pid] ?? 'dead';

  it('honours the pid of a running owner, however old the file', () => {
    expect(judgeLock('42\n', 1e9, { ...base, pidState: states({ 42: 'owner' }) })).to.deep.equal({
      take: false,
      heldBy: 42,
    });
  });
  it('takes over its own pid (a previous life) and a dead pid at once', () => {
    expect(judgeLock('100\n', 0, { ...base, pidState: states({ 100: 'owner' }) })).to.deep.equal({ take: true });
    expect(judgeLock('42\n', 0, { ...base, pidState: states({}) })).to.deep.equal({
      take: true,
      why: 'it held pid 42, which is no longer running',
    });
  });
  it("leaves garbage and other programs' pids alone while fresh, takes them over once old", () => {
    expect(judgeLock('x', 9_999, { ...base, pidState: states({}) })).to.deep.equal({ take: false, heldBy: 0 });
    expect(judgeLock('1\n', 9_999, { ...base, pidState: states({ 1: 'other' }) })).to.deep.equal({
      take: false,
      heldBy: 0,
    });
    expect(judgeLock('1\n', 60_000, { ...base, pidState: states({ 1: 'other' }) })).to.deep.equal({
      take: true,
      why: 'it held pid 1, which is not a running logjam-compress, and was 60 s old',
    });
    expect(judgeLock('not a pid', 60_000, { ...base, pidState: states({}) })).to.deep.equal({
      take: true,
      why: 'it held "not a pid", not a pid, and was 60 s old',
    });
  });
});
