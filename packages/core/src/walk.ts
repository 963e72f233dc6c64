// LOG_DIR and ARCHIVE_DIR are walked, not resolved, as systemd-tmpfiles does:
// each component is opened with O_NOFOLLOW | O_DIRECTORY from the one before
// (through /proc/self/fd/FD/NAME, Node having no openat()), so a link anywhere
// in the path is refused rather than followed, and the folder is held by its
// descriptor from then on (see held-dir.ts): whoever can rename a folder above
// it can no longer swap it for another once it is open. As root, every step is
// checked as it is opened (see permissions.ts): a folder that another user
// owns or can write, the folder itself or any above it, is refused.
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, errorCode } from './errors.js';
import { heldFrom, type HeldDir } from './held-dir.js';
import { checkFolder } from './permissions.js';

export interface WalkOptions {
  /** What the folder is for, in messages: `LOG_DIR`, `ARCHIVE_DIR`. */
  what: string;
  /** The program, in messages. */
  binary: string;
  /** Apply the ownership rule to every step (as root, without --user or --insecure-permissions). */
  rule: boolean;
  euid?: number;
}

const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Opens `dir` (made absolute, never resolved) one component at a time from
 * `/`, and holds it. A link or a non-folder on the way, or (with the rule) a
 * step another user controls, is a ConfigError naming it; a missing one is
 * ENOENT, as from open().
 */
export async function walkToDir(dir: string, options: WalkOptions): Promise<HeldDir> {
  const target = path.resolve(dir);
  const euid = options.euid ?? process.geteuid?.() ?? -1;
  const rule = options.rule && euid === 0;
  let handle = await openRoot();
  try {
    const pinned = await throughProc(handle);
    let walked = '/';
    const steps = target.split('/').filter(Boolean);
    if (rule)
      await checkFolder(target, walked, await handle.stat(), { binary: options.binary, euid, above: steps.length > 0 });
    for (const [index, name] of steps.entries()) {
      walked = path.join(walked, name);
      const next = await openStep(pinned ? `/proc/self/fd/${handle.fd}/${name}` : walked, walked, target, options.what);
      await handle.close();
      handle = next;
      if (rule)
        await checkFolder(target, walked, await handle.stat(), {
          binary: options.binary,
          euid,
          above: index < steps.length - 1,
        });
    }
    return await heldFrom(handle, target);
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/**
 * The process's root, through /proc/self/root where /proc is mounted: under
 * qemu-user with a sysroot (-L, QEMU_LD_PREFIX) an open of `/` names the
 * sysroot, while /proc/self/fd/FD/NAME and every other path reach the real one.
 */
async function openRoot(): Promise<FileHandle> {
  return fs.open('/proc/self/root/', constants.O_RDONLY | constants.O_DIRECTORY).catch(() => fs.open('/', DIRECTORY));
}

/** Whether /proc/self/fd/FD reaches the folder `handle` holds (Linux with /proc mounted). */
async function throughProc(handle: FileHandle): Promise<boolean> {
  const held = await handle.stat();
  return fs.stat(`/proc/self/fd/${handle.fd}`).then(
    (s) => s.dev === held.dev && s.ino === held.ino,
    () => false,
  );
}

/** Opens the step `walked` of `target` (at `via`) without following a link. */
async function openStep(via: string, walked: string, target: string, what: string): Promise<FileHandle> {
  try {
    return await fs.open(via, DIRECTORY);
  } catch (error) {
    const code = errorCode(error);
    // With O_DIRECTORY, Linux answers ENOTDIR for a link as for a file: lstat tells them apart.
    if (code !== 'ELOOP' && code !== 'ENOTDIR') throw error;
    const stats = await fs.lstat(via).catch(() => null);
    if (stats?.isSymbolicLink()) {
      const to = await fs.readlink(via).catch(() => '?');
      const real = await fs.realpath(target).catch(() => null);
      throw new ConfigError(
        `${walked} is a symbolic link (to ${to}) in the path of ${what} ${target}; logjam never follows a link it did not make (running as root, it would work where the link's owner chose): give the path without links${real ? ` (${real})` : ''}`,
      );
    }
    throw new ConfigError(
      `${walked} in the path of ${what} ${target} is not a directory: give the path of a directory`,
    );
  }
}
