// The lock of old, where flock(1) is missing (see lock.ts): a pid file created
// with O_EXCL | O_NOFOLLOW, honoured only when it holds the pid of a running
// process of the lock's owner (its command line names it); a pid that is no
// longer running is taken over at once, anything else (no pid, garbage, the
// pid of some other program) once the file has not been touched for
// LOCK_SETTLE_MS, since its creator may still be writing its pid.
import { constants, promises as fs, readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { errorCode } from './errors.js';
import { linkError, notFileError, releasedOnce, type Lock, type LockAttempt, type LockOptions } from './lock-file.js';

/** A lock file younger than this without the pid of a running owner may still be being written by its creator. */
export const LOCK_SETTLE_MS = 10_000;

/** What a process id stands for: gone, the lock's owner program, or another program. */
export type PidState = 'dead' | 'owner' | 'other';

export type LockVerdict = { take: false; heldBy: number } | { take: true; why?: string };

/** Whether to take over a lock file with `content`, last modified `ageMs` ago. Pure. */
export function judgeLock(
  content: string,
  ageMs: number,
  options: { ownPid: number; settleMs: number; owner: string; pidState: (pid: number) => PidState },
): LockVerdict {
  const text = content.trim();
  const pid = /^\d{1,10}$/.test(text) ? Number(text) : 0;
  if (pid > 0 && pid === options.ownPid) return { take: true }; // left by a previous life of this pid
  const state = pid > 0 ? options.pidState(pid) : 'other';
  if (state === 'owner') return { take: false, heldBy: pid };
  if (state === 'dead') return { take: true, why: `it held pid ${pid}, which is no longer running` };
  if (ageMs < options.settleMs) return { take: false, heldBy: 0 };
  const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}...` : JSON.stringify(text);
  const what = pid > 0 ? `pid ${pid}, which is not a running ${options.owner}` : `${shown}, not a pid`;
  return { take: true, why: `it held ${what}, and was ${Math.round(ageMs / 1000)} s old` };
}

/** The pid-file lock, where flock(1) is missing. */
export async function tryPidLock(file: string, options: LockOptions): Promise<LockAttempt> {
  let tookOver: string | undefined;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      const handle = await fs.open(
        file,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o644,
      );
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { acquired: true, lock: makeLock(file), tookOver };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const held = await readLock(file);
    if (held === 'gone') continue;
    const verdict = judgeLock(held.content, Date.now() - held.mtimeMs, {
      ownPid: process.pid,
      settleMs: options.settleMs ?? LOCK_SETTLE_MS,
      owner: options.owner,
      pidState: (pid) => pidState(pid, options.owner),
    });
    if (!verdict.take) return { acquired: false, heldBy: verdict.heldBy };
    tookOver = verdict.why;
    await fs.rm(file, { force: true });
  }
  return { acquired: false, heldBy: 0 };
}

/** The lock's content and mtime, read without following a link; a link or a non-regular file is a ConfigError. */
async function readLock(file: string): Promise<{ content: string; mtimeMs: number } | 'gone'> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO in its place must not block the open.
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    if (errorCode(error) === 'ELOOP') throw linkError(file);
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notFileError(file);
    // A pid is a few bytes; a lock file of megabytes is not read whole.
    const buffer = Buffer.alloc(64);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { content: buffer.subarray(0, bytesRead).toString('utf8'), mtimeMs: stats.mtimeMs };
  } finally {
    await handle.close();
  }
}

/** Whether `pid` runs, and whether it is `owner` (its command line names it); a process whose command line cannot be read counts as the owner. */
function pidState(pid: number, owner: string): PidState {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive, but someone else's.
    if (errorCode(error) !== 'EPERM') return 'dead';
  }
  let cmdline: string;
  try {
    cmdline = readCmdline(pid);
  } catch {
    return 'owner'; // no /proc, or hidden from us (hidepid): trust the pid
  }
  return cmdline.includes(owner) ? 'owner' : 'other';
}

function readCmdline(pid: number): string {
  // Synchronous: a few bytes from procfs, once per lock attempt.
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

function makeLock(file: string): Lock {
  return releasedOnce(file, async () => {
    // Only remove the file if it is still ours.
    const held = await readLock(file).catch(() => 'gone' as const);
    if (held !== 'gone' && Number(held.content.trim()) === process.pid) await fs.rm(file, { force: true });
  });
}
