// What the operator must fix is found at start, said once, exit 2: a folder
// logjam must write in that this user cannot write, a --metrics-file whose
// folder is missing. Found later, the same would be an error per pass, or a
// run that never has metrics, unnoticed.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { ConfigError, errorCode } from './errors.js';
import { showPaths } from './shown-paths.js';

/** The user this process runs as, for messages: `uid 65534`. */
function whoAmI(): string {
  return `uid ${process.geteuid?.() ?? '?'}`;
}

/**
 * Throws a ConfigError naming `dir`, what logjam writes there, and the fix,
 * when this user cannot make files in it.
 */
export async function checkWritableDir(dir: string, options: { what: string; binary: string }): Promise<void> {
  try {
    await fs.access(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EROFS')
      throw new ConfigError(
        `${showPaths(dir)} is on a read-only file system, and ${options.binary} writes ${options.what} there: remount it read-write`,
      );
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ConfigError(
        `${showPaths(dir)} is not writable by this user (${whoAmI()}), and ${options.binary} writes ${options.what} there: run ${options.binary} as the folder's owner (--user OWNER), or give this user write access`,
      );
    }
    throw error;
  }
}

/** --metrics-file: its folder must exist and be writable now, not fail every pass unseen. */
export async function checkMetricsFile(file: string, binary: string): Promise<void> {
  const dir = path.dirname(file);
  const stats = await fs.stat(dir).catch((error: unknown) => {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  });
  if (!stats)
    throw new ConfigError(
      `--metrics-file ${file}: the folder ${dir} does not exist: create it (node_exporter's --collector.textfile.directory), or fix the path`,
    );
  if (!stats.isDirectory()) throw new ConfigError(`--metrics-file ${file}: ${dir} is not a folder: fix the path`);
  await checkWritableDir(dir, { what: 'the metrics file (a temporary file, then renamed)', binary });
}
