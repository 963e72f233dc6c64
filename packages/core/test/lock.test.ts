import { expect } from 'chai';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { judgeLock, tryLock, waitLock, type PidState } from '../src/lock.ts';
import { ConfigError } from '../src/errors.ts';
import { cleanupTmpDirs, startLockHolder, tmpDir } from '../../../test/support/index.ts';

/** A pid that surely belongs to no running process: one that just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

const OWNER = 'logjam-lock-test';
const old = () => new Date(Date.now() - 60_000);

describe('directory lock', () => {
  const holders: ChildProcess[] = [];
  afterEach(async () => {
    for (const holder of holders.splice(0)) holder.kill('SIGKILL');
    await cleanupTmpDirs();
  });
  function holder(program = OWNER): number {
    const child = startLockHolder(program);
    holders.push(child);
    return child.pid;
  }

  it('is taken once, refused while held by a running owner, free after release', async () => {
    const file = path.join(await tmpDir(), '.logjam-compress.lock');
    const first = await tryLock(file, { owner: OWNER });
    expect(first.acquired).to.equal(true);
    expect(await fs.readFile(file, 'utf8')).to.equal(`${process.pid}\n`);
    const other = path.join(path.dirname(file), 'other.lock');
    const pid = holder();
    await fs.writeFile(other, `${pid}\n`);
    await fs.utimes(other, old(), old());
    expect(await tryLock(other, { owner: OWNER })).to.deep.equal({ acquired: false, heldBy: pid });
    if (first.acquired) await first.lock.release();
    expect(await fs.readdir(path.dirname(file))).to.deep.equal(['other.lock']);
  });

  it('takes over a lock left by a dead process at once, saying why', async () => {
    const file = path.join(await tmpDir(), '.lock');
    const dead = deadPid();
    await fs.writeFile(file, `${dead}\n`);
    const attempt = await tryLock(file, { owner: OWNER });
    expect(attempt.acquired && attempt.tookOver).to.equal(`it held pid ${dead}, which is no longer running`);
    expect(await fs.readFile(file, 'utf8')).to.equal(`${process.pid}\n`);
  });

  it('takes over an old lock file without a pid, but not a fresh one', async () => {
    const file = path.join(await tmpDir(), '.lock');
    await fs.writeFile(file, '');
    expect((await tryLock(file, { owner: OWNER })).acquired).to.equal(false);
    await fs.utimes(file, old(), old());
    expect((await tryLock(file, { owner: OWNER })).acquired).to.equal(true);
  });

  it('takes over an old lock holding the pid of a running program that is not its owner', async () => {
    const file = path.join(await tmpDir(), '.lock');
    const pid = holder('some-busy-daemon');
    await fs.writeFile(file, `${pid}\n`);
    expect(await tryLock(file, { owner: OWNER }), 'fresh: left alone').to.deep.equal({ acquired: false, heldBy: 0 });
    await fs.utimes(file, old(), old());
    const attempt = await tryLock(file, { owner: OWNER });
    expect(attempt.acquired && attempt.tookOver).to.match(new RegExp(`^it held pid ${pid}, which is not a running ${OWNER}, and was \\d+ s old$`));
  });

  it('refuses a lock that is a symbolic link, and leaves its target alone', async () => {
    const dir = await tmpDir();
    const target = path.join(dir, 'busy.log');
    await fs.writeFile(target, 'busy\n');
    await fs.symlink(target, path.join(dir, '.lock'));
    const error = await tryLock(path.join(dir, '.lock'), { owner: OWNER }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.equal(`the lock ${path.join(dir, '.lock')} is a symbolic link, which logjam never follows: remove it (logjam makes its lock itself)`);
    expect(await fs.readFile(target, 'utf8')).to.equal('busy\n');
  });

  it('refuses a lock that is not a regular file', async () => {
    const dir = await tmpDir();
    await fs.mkdir(path.join(dir, '.lock'));
    const error = await tryLock(path.join(dir, '.lock'), { owner: OWNER }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.equal(`the lock ${path.join(dir, '.lock')} is not a regular file: remove it (logjam makes its lock itself)`);
  });

  it('waits until the holder lets go, and gives up when aborted', async () => {
    const file = path.join(await tmpDir(), '.lock');
    const pid = holder();
    await fs.writeFile(file, `${pid}\n`);
    const stop = new AbortController();
    let told = 0;
    const waiting = waitLock(file, { owner: OWNER, pollMs: 20, signal: stop.signal, onWait: () => (told += 1) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await fs.rm(file);
    const lock = await waiting;
    expect(lock).to.not.equal(null);
    expect(told).to.equal(1);
    await lock!.release();
    await fs.writeFile(file, `${pid}\n`);
    stop.abort();
    expect(await waitLock(file, { owner: OWNER, pollMs: 20, signal: stop.signal })).to.equal(null);
  });
});

describe('judgeLock (whose lock it is, with injected process states)', () => {
  const base = { ownPid: 100, settleMs: 10_000, owner: 'logjam-compress' };
  const states = (map: Record<number, PidState>) => (pid: number) => map[pid] ?? 'dead';

  it('honours the pid of a running owner, however old the file', () => {
    expect(judgeLock('42\n', 1e9, { ...base, pidState: states({ 42: 'owner' }) })).to.deep.equal({ take: false, heldBy: 42 });
  });
  it('takes over its own pid (a previous life) and a dead pid at once', () => {
    expect(judgeLock('100\n', 0, { ...base, pidState: states({ 100: 'owner' }) })).to.deep.equal({ take: true });
    expect(judgeLock('42\n', 0, { ...base, pidState: states({}) })).to.deep.equal({ take: true, why: 'it held pid 42, which is no longer running' });
  });
  it("leaves garbage and other programs' pids alone while fresh, takes them over once old", () => {
    expect(judgeLock('x', 9_999, { ...base, pidState: states({}) })).to.deep.equal({ take: false, heldBy: 0 });
    expect(judgeLock('1\n', 9_999, { ...base, pidState: states({ 1: 'other' }) })).to.deep.equal({ take: false, heldBy: 0 });
    expect(judgeLock('1\n', 60_000, { ...base, pidState: states({ 1: 'other' }) })).to.deep.equal({ take: true, why: 'it held pid 1, which is not a running logjam-compress, and was 60 s old' });
    expect(judgeLock('not a pid', 60_000, { ...base, pidState: states({}) })).to.deep.equal({ take: true, why: 'it held "not a pid", not a pid, and was 60 s old' });
  });
});
