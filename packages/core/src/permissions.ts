// logrotate's rule for root: a directory that a group other than root's, or
// everyone, can write is refused, because whoever can write it can swap its
// entries (archive/, the lock) for links between root's check and root's use.
// The user says which user to act as (--user, as logrotate's `su`), or
// accepts the risk (--insecure-permissions).
import { promises as fs } from 'node:fs';
import { ConfigError, errorCode } from './errors.js';

export interface Ownership {
  mode: number;
  uid: number;
  gid: number;
}

/** Why `dir` is unsafe for a process of effective uid `euid` to work in, or null when it is not. Pure. */
export function insecurePermissions(stats: Ownership, euid: number): string | null {
  if (euid !== 0) return null;
  const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
  if (stats.mode & 0o002) return `writable by every user (mode ${mode})`;
  if (stats.mode & 0o020 && stats.gid !== 0) return `writable by group ${stats.gid}, not root's (mode ${mode})`;
  return null;
}

/** The one-line refusal for `dir`, naming the three ways out. */
export function insecurePermissionsMessage(dir: string, why: string, binary: string): string {
  return (
    `${dir} is ${why}: as root, ${binary} refuses a directory that other users can write, since they could swap what is in it for links and make root write where they choose; ` +
    `run it as that directory's owner (--user USER[:GROUP]), or remove the write permission (chmod g-w,o-w ${dir}), or accept the risk with --insecure-permissions`
  );
}

/**
 * Applies the rule to each existing directory of `dirs` (missing ones are
 * left to whoever makes them), by lstat: throws a ConfigError for the first
 * one refused.
 */
export async function checkPermissions(dirs: string[], options: { binary: string; euid?: number }): Promise<void> {
  const euid = options.euid ?? process.geteuid?.() ?? -1;
  if (euid !== 0) return;
  for (const dir of dirs) {
    let stats;
    try {
      stats = await fs.lstat(dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      throw error;
    }
    const why = insecurePermissions(stats, euid);
    if (why) throw new ConfigError(insecurePermissionsMessage(dir, why, options.binary));
  }
}
