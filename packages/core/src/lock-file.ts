// What both ways of locking (lock.ts: the kernel's flock; pid-lock.ts: a pid
// in the file, where flock does not work) share: the lock and its errors.
import type { FileHandle } from 'node:fs/promises';
import { ConfigError } from './errors.js';
import { showPaths } from './shown-paths.js';

export interface Lock {
  readonly path: string;
  /** The lock file held open, for the kernel's lock (its open file description holds the lock). */
  readonly handle?: FileHandle | undefined;
  release(): Promise<void>;
}

/** The lock on `file` that `release` gives up, once, however often it is asked to (a run's stack and a signal may both). */
export function releasedOnce(file: string, release: () => Promise<void>, handle?: FileHandle): Lock {
  let released = false;
  return {
    path: file,
    handle,
    async release() {
      if (released) return;
      released = true;
      await release();
    },
  };
}

export type LockAttempt =
  /** `tookOver` says why a lock that was there was taken over (worth a warning). */
  | { acquired: true; lock: Lock; tookOver?: string | undefined }
  /** `heldBy` is the holder's pid, or 0 when the lock is too fresh to judge. */
  | { acquired: false; heldBy: number };

export interface LockOptions {
  /** The program that makes this lock, as its command line names it, such as `logjam-compress`. */
  owner: string;
  /** How long a lock without the pid of a running owner is left alone (default LOCK_SETTLE_MS). */
  settleMs?: number;
}

export const linkError = (file: string) =>
  new ConfigError(
    `the lock ${showPaths(file)} is a symbolic link, which logjam never follows: remove it (logjam makes its lock itself)`,
  );
export const notFileError = (file: string) =>
  new ConfigError(`the lock ${showPaths(file)} is not a regular file: remove it (logjam makes its lock itself)`);
