// One process per directory: a lock file, held by the kernel. The file is
// opened with O_NOFOLLOW and locked with flock(LOCK_EX | LOCK_NB), so that the
// lock is the kernel's: it goes with the process that holds it, and neither a
// reused pid nor a process that names itself logjam can keep it. Node has no
// flock(): flock(1) (util-linux) is run on our open file description, which it
// shares, and the lock stays with that description after it exits, until we
// close it. The file still holds the holder's pid, for people to read. A link,
// or anything but a regular file, is refused (ConfigError).
// Without flock(1), the pid file of old (pid-lock.ts).
import { spawn } from 'node:child_process';
import { close, constants, fstat, promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ConfigError, errorCode } from './errors.js';
import { linkError, notFileError, releasedOnce, type Lock, type LockAttempt, type LockOptions } from './lock-file.js';
import { LOCK_SETTLE_MS, tryPidLock } from './pid-lock.js';
import type { Logger } from './log.js';
import { SERVICE_PASS_ENV } from './service-pass.js';
import { showPaths } from './shown-paths.js';

export { judgeLock, LOCK_SETTLE_MS, type LockVerdict, type PidState } from './pid-lock.js';
export { linkError, notFileError, type Lock, type LockAttempt, type LockOptions } from './lock-file.js';

export async function tryLock(file: string, options: LockOptions): Promise<LockAttempt> {
  if (!(await flockRuns())) return tryPidLock(file, options);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const handle = await openLockFile(file);
    let keep = false;
    try {
      const state = await kernelLock(handle.fd);
      const content = await readHead(handle);
      if (state === 'held') return { acquired: false, heldBy: pidIn(content) };
      // A holder that let go removes the name: lock the file that the name names now.
      const named = await fs.lstat(file).catch(() => null);
      const opened = await handle.stat();
      if (!named || named.ino !== opened.ino || named.dev !== opened.dev) continue;
      await handle.truncate(0);
      // At the file offset, 0 (write, not pwrite: tests stop logjam-compress at its first pwrite, its archive's data).
      await handle.write(`${process.pid}\n`);
      await handle.sync();
      keep = true;
      return { acquired: true, lock: heldLock(file, handle), tookOver: leftBehind(content) };
    } finally {
      if (!keep) await handle.close();
    }
  }
  return { acquired: false, heldBy: 0 };
}

/** What a lock file that no process held any more said (worth a warning), or undefined for an empty one or our own pid. Pure. */
export function leftBehind(content: string, ownPid = process.pid): string | undefined {
  const text = content.trim();
  if (text === '' || text === String(ownPid)) return undefined;
  const pid = pidIn(text);
  const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}...` : JSON.stringify(text);
  return `it held ${pid > 0 ? `pid ${pid}` : `${shown}, not a pid`}, but no process held the lock (left by a run that was killed?)`;
}

function pidIn(content: string): number {
  const text = content.trim();
  return /^\d{1,10}$/.test(text) ? Number(text) : 0;
}

/** The lock file, opened (made if missing) without following a link; a link, or anything but a regular file, is a ConfigError. */
async function openLockFile(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO in its place must not block the open.
    handle = await fs.open(
      file,
      constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      0o644,
    );
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ELOOP') throw linkError(file);
    if (code === 'EISDIR') throw notFileError(file);
    throw error;
  }
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (!stats.isFile()) {
    await handle.close();
    throw notFileError(file);
  }
  return handle;
}

let flockChecked: Promise<boolean> | undefined;

/** Whether flock(1) can be run here (once per process). */
function flockRuns(): Promise<boolean> {
  flockChecked ??= new Promise((resolve) => {
    const child = spawn('flock', ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
  return flockChecked;
}

/**
 * flock(LOCK_EX | LOCK_NB) on the open file description of descriptor `fd`,
 * by flock(1) given it as its fd 3: 'ours' until every descriptor of it is
 * closed, or 'held' by another process.
 */
function kernelLock(fd: number): Promise<'ours' | 'held'> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['--exclusive', '--nonblock', '3'], {
      stdio: ['ignore', 'ignore', 'ignore', fd],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0 || code === 1) resolve(code === 0 ? 'ours' : 'held');
      else reject(new Error(`flock(1) on the lock failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** The first bytes of the lock file: a pid is a few bytes; a lock file of megabytes is not read whole. */
async function readHead(handle: FileHandle): Promise<string> {
  const buffer = Buffer.alloc(64);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  return buffer.subarray(0, bytesRead).toString('utf8');
}

/** A lock held by the kernel on `handle`: released by removing the name (while still ours) and closing. */
function heldLock(file: string, handle: FileHandle): Lock {
  return releasedOnce(
    file,
    async () => {
      try {
        const named = await fs.lstat(file).catch(() => null);
        const opened = await handle.stat();
        if (named && named.ino === opened.ino && named.dev === opened.dev) await fs.rm(file, { force: true });
      } finally {
        await handle.close();
      }
    },
    handle,
  );
}

/**
 * A service's pass child (service-pass.ts) takes over the service's lock,
 * inherited as descriptor `fd`: only if `fd` is the lock file `file` names
 * now and its description holds the lock (flock(1) on it says 'ours'; where
 * flock(1) does not run, the file holds the parent's pid). Released by
 * closing `fd` alone: the lock stays the service's. Otherwise a ConfigError.
 */
export async function adoptLock(file: string, fd: number): Promise<Lock> {
  const refused = (why: string) =>
    new ConfigError(
      `${SERVICE_PASS_ENV}=${fd}: ${why}; it is set by a logjam service for the passes it starts, never by hand: unset it`,
    );
  const opened = await new Promise<Stats | null>((resolve) =>
    fstat(fd, (error, stats) => resolve(error ? null : stats)),
  );
  const named = await fs.lstat(file).catch(() => null);
  if (!opened || !named || !named.isFile() || named.ino !== opened.ino || named.dev !== opened.dev)
    throw refused(`descriptor ${fd} is not the lock ${showPaths(file)}`);
  const ours = (await flockRuns())
    ? (await kernelLock(fd)) === 'ours'
    : pidIn(await fs.readFile(file, 'utf8').catch(() => '')) === process.ppid;
  if (!ours) throw refused(`the lock ${showPaths(file)} is not held through it`);
  return releasedOnce(file, () => new Promise<void>((resolve) => close(fd, () => resolve())));
}

export interface ModeLockOptions extends LockOptions {
  /** One pass (--once): try once, and leave the directory to the holder. A service waits for the lock. */
  once: boolean;
  /** Stops a service's wait (then null). */
  signal?: AbortSignal;
  /** --once found the lock held by `pid` (0: too fresh to judge: its holder may still be writing its pid). */
  onHeld: (pid: number) => void;
  /** A service starts waiting for the lock held by `pid`. */
  onWait: (pid: number) => void;
  /** A lock that was there was taken over, for this reason (worth a warning). */
  onTakeOver: (why: string) => void;
}

/**
 * What both tools say of a lock they do not get at once: one held with --once
 * at WARN (`onSkipped` counts it: a lock that never goes away must not stop the
 * work unnoticed), a service's wait at INFO, a take-over at WARN.
 */
export function lockMessages(
  binary: string,
  where: { dir: string; file: string },
  log: Logger,
  onSkipped: () => void,
): Pick<ModeLockOptions, 'onHeld' | 'onWait' | 'onTakeOver'> {
  const { dir, file } = where;
  return {
    onHeld: (pid) => {
      onSkipped();
      log.warn(
        pid > 0
          ? `another ${binary} (pid ${pid}) is working on ${dir}; skipped it, leaving it to that one`
          : `${file} was made a moment ago and holds no pid of a running ${binary} yet; skipped ${dir} (a lock like that is taken over once it is ${LOCK_SETTLE_MS / 1000} s old)`,
        { dir, pid: pid || undefined },
      );
    },
    onWait: (pid) =>
      log.info(`another ${binary}${pid > 0 ? ` (pid ${pid})` : ''} is working on ${dir}; waiting for it to finish`, {
        dir,
        pid: pid || undefined,
      }),
    onTakeOver: (why) => log.warn(`took over the lock ${file}: ${why}`, { dir }),
  };
}

/**
 * The lock as the mode wants it: --once tries once, a service waits; null
 * when it was not taken. A lock that is a link or not a regular file throws a
 * ConfigError.
 */
export async function lockForMode(file: string, options: ModeLockOptions): Promise<Lock | null> {
  const { owner, settleMs } = options;
  const common = { owner, ...(settleMs !== undefined ? { settleMs } : {}) };
  if (!options.once)
    return waitLock(file, {
      ...common,
      ...(options.signal ? { signal: options.signal } : {}),
      onWait: options.onWait,
      onTakeOver: options.onTakeOver,
    });
  const attempt = await tryLock(file, common);
  if (!attempt.acquired) {
    options.onHeld(attempt.heldBy);
    return null;
  }
  if (attempt.tookOver) options.onTakeOver(attempt.tookOver);
  return attempt.lock;
}

/** Waits (polling, not spinning) until the lock is ours, or the signal aborts (then null). */
export async function waitLock(
  file: string,
  options: LockOptions & {
    signal?: AbortSignal;
    pollMs?: number;
    onWait?: (heldBy: number) => void;
    onTakeOver?: (why: string) => void;
  },
): Promise<Lock | null> {
  let told = false;
  for (;;) {
    if (options.signal?.aborted) return null;
    const attempt = await tryLock(file, options);
    if (attempt.acquired) {
      if (attempt.tookOver) options.onTakeOver?.(attempt.tookOver);
      return attempt.lock;
    }
    if (!told) {
      options.onWait?.(attempt.heldBy);
      told = true;
    }
    await sleep(options.pollMs ?? 1000, options.signal);
  }
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
