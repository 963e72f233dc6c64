// Directories logjam writes in (archive/, .uploaded/) may sit in a folder that
// someone else can write, who may swap them for a symbolic link at any moment.
// Checking a path, then using it, leaves that moment open; Node has no openat().
// So a directory is opened once with O_NOFOLLOW | O_DIRECTORY (a link there is
// refused by the kernel, atomically), and on Linux every later operation goes
// through /proc/self/fd/FD/NAME: the kernel resolves FD to the very directory
// that was opened, whatever its name points to since, so a swapped name
// changes nothing for us. Without /proc (another OS, a container without it)
// the path itself is used; logjam-compress then calls held.verify() right
// before its temporary file, its link and the deletion of a source, which
// narrows the window but cannot close it (the permission rule is the guard).
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ConfigError, errorCode } from './errors.js';
import { showPaths, shown } from './shown-paths.js';

export { showPaths };

export interface HeldDir {
  /** The directory's path as the user gave it, for messages. */
  readonly path: string;
  /** The path to use for entries of the held directory: /proc/self/fd/FD where /proc allows, else `path`. */
  readonly via: string;
  /** Whether `via` goes through the held descriptor (true on Linux with /proc mounted). */
  readonly pinned: boolean;
  /** Throws a ConfigError when `path` no longer names the directory that was opened (it was moved, or replaced by a link). */
  verify(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens `dir` without following a link. A link, or anything but a directory,
 * is a ConfigError naming `dir` and the fix; `what` says what the directory is for.
 */
export async function holdDir(dir: string, what: string): Promise<HeldDir> {
  let handle: FileHandle;
  try {
    handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = errorCode(error);
    // With O_DIRECTORY, Linux answers ENOTDIR for a link as for a file: lstat tells them apart.
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      await checkNotLink(dir, what);
      // A directory again by now: it was a link or a file a moment ago, which is no better.
      throw new ConfigError(
        `${showPaths(dir)} was a link or a file a moment ago, and a directory now: someone is swapping it; logjam needs a real directory there for ${what}`,
      );
    }
    throw error;
  }
  try {
    return await heldFrom(handle, dir);
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/** A HeldDir over `handle`, a directory opened as `dir` (which names it in messages); the handle is closed with it. */
export async function heldFrom(handle: FileHandle, dir: string): Promise<HeldDir> {
  const held = await handle.stat();
  const via = `/proc/self/fd/${handle.fd}`;
  const throughProc = await fs.stat(via).then(
    (s) => s.dev === held.dev && s.ino === held.ino,
    () => false,
  );
  // A directory held through another one is shown by its full name.
  if (throughProc) shown.set(via, showPaths(dir));
  let closed = false;
  return {
    path: dir,
    via: throughProc ? via : dir,
    pinned: throughProc,
    async verify() {
      const named = await fs.lstat(dir).catch(() => null);
      if (!named || !named.isDirectory() || named.dev !== held.dev || named.ino !== held.ino) {
        throw new ConfigError(
          `${dir} was moved or replaced (by a link?) while logjam worked in it: nothing was written through the new name; make ${dir} a real directory again`,
        );
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      // Its name stays known (until another directory gets the same descriptor): the error that made the run let go of it is said after.
      await handle.close();
    },
  };
}

/**
 * Makes `dir` if it is missing (as a real directory: mkdir never follows a
 * link in its last component), then holds it. Someone removing it between the
 * two gets it made again, a few times, then a ConfigError.
 */
export async function makeAndHoldDir(dir: string, what: string, mode = 0o755): Promise<HeldDir> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      await fs.mkdir(dir, { mode });
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    try {
      return await holdDir(dir, what);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  throw new ConfigError(
    `${showPaths(dir)} keeps disappearing while logjam makes it: find out who removes it; logjam needs a real directory there for ${what}`,
  );
}

/** Throws a ConfigError naming `dir` when it is a link or not a directory (by lstat); a missing one is fine. */
export async function checkNotLink(dir: string, what: string): Promise<void> {
  const stats = await fs.lstat(dir).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  });
  if (!stats) return;
  if (stats.isSymbolicLink()) {
    throw new ConfigError(
      `${showPaths(dir)} is a symbolic link; logjam never follows a link it did not make (running as root, it would write where the link's owner chose): replace it with a real directory for ${what}`,
    );
  }
  if (!stats.isDirectory())
    throw new ConfigError(
      `${showPaths(dir)} exists but is not a directory: move it away, so that logjam can make the directory for ${what}`,
    );
}
