// logrotate's rule for root, and sshd's StrictModes: as root, logjam works only
// in a folder that root alone controls. A folder that another user owns, or
// that a group other than root's or everyone can write, is refused, because
// whoever controls it can swap its entries (archive/, the lock, the logs) for
// links or for other folders between root's check and root's use, or give the
// archives root makes a group or ACL of their own. The same holds for every
// folder above it, except that a root-owned sticky folder (/tmp) is safe to be
// below: no one else may rename or remove root's entries in it. The user says
// which user to act as (--user, as logrotate's `su`), or accepts the risk
// (--insecure-permissions).
import { promises as fs } from 'node:fs';
import { ConfigError, errorCode } from './errors.js';
import { userName } from './run-as.js';
import { showPaths } from './shown-paths.js';

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

/** What makes a folder unsafe for root: another owner (its uid), or loose permissions; null when root alone controls it. Pure. */
export type Untrusted = { owner: number } | { why: string };

/**
 * The rule for one folder, for a process of effective uid `euid`: the folder
 * worked in (`above` false) or one above it (`above` true, where a root-owned
 * sticky folder is fine). Pure.
 */
export function untrustedFolder(stats: Ownership, euid: number, above: boolean): Untrusted | null {
  if (euid !== 0) return null;
  if (stats.uid !== 0) return { owner: stats.uid };
  if (above && stats.mode & 0o1000) return null;
  const why = insecurePermissions(stats, euid);
  return why ? { why } : null;
}

/** The one-line refusal for `dir`, naming the three ways out. */
export function insecurePermissionsMessage(dir: string, why: string, binary: string): string {
  return (
    `${dir} is ${why}: as root, ${binary} refuses a directory that other users can write, since they could swap what is in it for links and make root write where they choose; ` +
    `run it as that directory's owner (--user USER[:GROUP]), or remove the write permission (chmod g-w,o-w ${dir}), or accept the risk with --insecure-permissions`
  );
}

/**
 * The one-line refusal of `dir` because of `folder` (`dir` itself, or a folder
 * above it) under `verdict`; `owner` is the name of the folder's owner.
 */
export function untrustedMessage(
  dir: string,
  folder: string,
  verdict: Untrusted,
  owner: string,
  binary: string,
): string {
  if ('why' in verdict) {
    if (folder === dir) return insecurePermissionsMessage(dir, verdict.why, binary);
    return (
      `${dir} is below ${folder}, which is ${verdict.why}: as root, ${binary} refuses a directory below one that other users can write, since they could swap it for another and make root work where they choose; ` +
      `run it as the user that owns the logs (--user USER[:GROUP]), or remove the write permission (chmod g-w,o-w ${folder}), or accept the risk with --insecure-permissions`
    );
  }
  const whose = `owned by ${owner} (uid ${verdict.owner}), not root`;
  const where = folder === dir ? `${dir} is ${whose}` : `${dir} is below ${folder}, which is ${whose}`;
  return (
    `${where}: as root, ${binary} refuses a directory that another user controls, since its owner can change it at will and make root read or write where they choose; ` +
    `run it as that user (--user ${owner.startsWith('uid ') ? verdict.owner : owner}), or chown ${folder} to root, or accept the risk with --insecure-permissions`
  );
}

/** Throws the ConfigError refusing `dir` when `stats` of `folder` break the rule for `euid`. */
export async function checkFolder(
  dir: string,
  folder: string,
  stats: Ownership,
  options: { binary: string; euid: number; above: boolean },
): Promise<void> {
  const verdict = untrustedFolder(stats, options.euid, options.above);
  if (!verdict) return;
  const owner = 'owner' in verdict ? await userName(verdict.owner) : '';
  throw new ConfigError(showPaths(untrustedMessage(dir, folder, verdict, owner, options.binary)));
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
    await checkFolder(showPaths(dir), showPaths(dir), stats, { binary: options.binary, euid, above: false });
  }
}
