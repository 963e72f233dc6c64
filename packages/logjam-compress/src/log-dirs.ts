// The LOG_DIRs as given, checked before anything else, and each readied once its lock is held.
import { constants } from 'node:fs';
import path from 'node:path';
import { folderProblem, UsageError, type Logger } from '@logjam/core';
import { ARCHIVE_DIR, ensureArchiveDir, removeLeftoverTemps } from './compress.js';

/** With the lock held: archive/ exists, and no temporary file of a killed run is left in it. */
export async function prepare(dirs: string[], log: Logger): Promise<void> {
  for (const dir of dirs) {
    try {
      const archive = await ensureArchiveDir(dir);
      try {
        await removeLeftoverTemps(archive.via, log);
      } finally {
        await archive.close();
      }
    } catch (error) {
      // The pass reports it (and fails the files of that directory).
      log.debug(`cannot prepare ${path.join(dir, ARCHIVE_DIR)}`, { error: String(error) });
    }
  }
}

/** Every LOG_DIR must be an existing directory we can read and write (read only, for --check); duplicates are dropped. */
export async function checkDirs(
  dirs: string[],
  access = constants.R_OK | constants.W_OK | constants.X_OK,
): Promise<string[]> {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const dir of dirs) {
    // Made absolute, never resolved: a link on the way is refused when the path is walked (core's walk).
    const real = path.resolve(dir);
    const problem = await folderProblem(real, access);
    if (problem === 'not a folder')
      throw new UsageError(`LOG_DIR ${dir} is not a directory: give the directory that holds the log files`);
    if (problem === 'missing')
      throw new UsageError(`LOG_DIR ${dir} does not exist: check the path, or create the directory`);
    if (problem === 'denied') {
      const needs = access & constants.W_OK ? 'readable and writable' : 'readable';
      throw new UsageError(
        `LOG_DIR ${dir} is not ${needs} by this user: run logjam-compress as the user that owns the logs`,
      );
    }
    if (problem) throw new UsageError(`LOG_DIR ${dir} cannot be used (${problem.code})`);
    if (seen.has(real)) continue;
    seen.add(real);
    result.push(real);
  }
  return result;
}
