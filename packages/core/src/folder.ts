// The first check both tools make of the folders they are given (LOG_DIR,
// ARCHIVE_DIR): there, a folder, usable by this user. Each tool words the
// answer for its own folder and its own exit code.
import { promises as fs } from 'node:fs';
import { errorCode } from './errors.js';

/** Why a path cannot be used as a folder; `code` for any other error of stat or access. */
export type FolderProblem = 'missing' | 'not a folder' | 'denied' | { code: string };

/** Why `dir` cannot be used as a folder with `access` (fs.constants; none: stat only), or null when it can. */
export async function folderProblem(dir: string, access?: number): Promise<FolderProblem | null> {
  try {
    const stats = await fs.stat(dir);
    if (!stats.isDirectory()) return 'not a folder';
    if (access !== undefined) await fs.access(dir, access);
    return null;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    if (code === 'EACCES' || code === 'EPERM') return 'denied';
    return { code: code ?? String(error) };
  }
}
