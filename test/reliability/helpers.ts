// Shared by the disk, input and load reliability tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { binaries } from '../support/index.ts';

/** An hour ago (seconds since the epoch): past the default 60 s grace period. */
export const OLD = Date.now() / 1000 - 3600;

export async function write(file: string, content: string | Buffer, mtime = OLD): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  await fs.utimes(file, mtime, mtime);
}

export async function gunzip(file: string): Promise<Buffer> {
  return zlib.gunzipSync(await fs.readFile(file));
}

/** Numbered lines, so that a lost or torn line shows. */
export function numbered(lines: number, tag = 'line'): string {
  let text = '';
  for (let i = 0; i < lines; i += 1)
    text += `${tag} ${String(i).padStart(8, '0')} GET /item/${(i * 2654435761) % 100000} HTTP/1.1 200 ${i % 997}\n`;
  return text;
}

export const isRoot = () => process.getuid?.() === 0;

/**
 * Mounts a tmpfs of `size` (e.g. '256k') on `dir`; false when this process may
 * not mount. Mode 0755, not tmpfs's default 1777, which root's logjam refuses.
 */
export function mountTmpfs(dir: string, size: string): boolean {
  if (!isRoot()) return false;
  return (
    spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'ignore' }).status === 0
  );
}
export function remountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, dir]);
}
export function umount(dir: string): void {
  spawnSync('umount', [dir], { stdio: 'ignore' });
}

/** Whether we can run the binaries as `nobody`: root, setpriv present, node and the repository readable by nobody. */
export function canDropPrivileges(): boolean {
  if (!isRoot()) return false;
  const probe = spawnSync('setpriv', [
    '--reuid=nobody',
    '--regid=nogroup',
    '--clear-groups',
    process.execPath,
    binaries['logjam-compress'],
    '--version',
  ]);
  return probe.status === 0;
}
/** The argv prefix that runs a command as nobody:nogroup with no supplementary groups. */
export const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** nobody's uid and gid, for chown. */
export function nobodyIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
