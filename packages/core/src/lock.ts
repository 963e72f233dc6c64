// One process per directory: a lock file holding the owner's pid, created with
// O_EXCL. A lock whose owner is dead is taken over at once.
import { promises as fs } from 'node:fs';
import { errorCode } from './errors.js';

export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

export type LockAttempt = { acquired: true; lock: Lock } | { acquired: false; heldBy: number };

/** A lock file younger than this with no pid in it yet is being written by its creator. */
const FRESH_EMPTY_LOCK_MS = 5_000;

export async function tryLock(file: string): Promise<LockAttempt> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      const handle = await fs.open(file, 'wx', 0o644);
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { acquired: true, lock: makeLock(file) };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const holder = await readHolder(file);
    if (holder === 'gone') continue;
    if (holder === 'fresh') return { acquired: false, heldBy: 0 };
    if (holder !== process.pid && isAlive(holder)) return { acquired: false, heldBy: holder };
    // The owner is dead (or it is our own pid left by a previous life): take it over.
    await fs.rm(file, { force: true });
  }
  return { acquired: false, heldBy: 0 };
}

export interface ModeLockOptions {
  /** One pass (--once): try once, and leave the directory to the holder. A service waits for the lock. */
  once: boolean;
  /** Stops a service's wait (then null). */
  signal?: AbortSignal;
  /** --once found the lock held by `pid` (0: its holder is still writing its pid). */
  onHeld: (pid: number) => void;
  /** A service starts waiting for the lock held by `pid`. */
  onWait: (pid: number) => void;
}

/** The lock as the mode wants it: --once tries once, a service waits; null when it was not taken. */
export async function lockForMode(file: string, options: ModeLockOptions): Promise<Lock | null> {
  if (!options.once) return waitLock(file, { ...(options.signal ? { signal: options.signal } : {}), onWait: options.onWait });
  const attempt = await tryLock(file);
  if (attempt.acquired) return attempt.lock;
  options.onHeld(attempt.heldBy);
  return null;
}

/** Waits (polling, not spinning) until the lock is ours, or the signal aborts (then null). */
export async function waitLock(
  file: string,
  options: { signal?: AbortSignal; pollMs?: number; onWait?: (heldBy: number) => void } = {},
): Promise<Lock | null> {
  let told = false;
  for (;;) {
    if (options.signal?.aborted) return null;
    const attempt = await tryLock(file);
    if (attempt.acquired) return attempt.lock;
    if (!told) {
      options.onWait?.(attempt.heldBy);
      told = true;
    }
    await sleep(options.pollMs ?? 1000, options.signal);
  }
}

async function readHolder(file: string): Promise<number | 'gone' | 'fresh' | -1> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    throw error;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (Number.isInteger(pid) && pid > 0) return pid;
  return Date.now() - mtimeMs < FRESH_EMPTY_LOCK_MS ? 'fresh' : -1;
}

function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's.
    return errorCode(error) === 'EPERM';
  }
}

function makeLock(file: string): Lock {
  let released = false;
  return {
    path: file,
    async release() {
      if (released) return;
      released = true;
      // Only remove the file if it is still ours.
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      if (Number.parseInt(text.trim(), 10) === process.pid) await fs.rm(file, { force: true });
    },
  };
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
