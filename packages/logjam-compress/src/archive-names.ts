// archive/ and the names in it: the folder held open, the archive names a log may take, the temporaries of a killed run.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  errorCode,
  formatLogName,
  holdDir,
  makeAndHoldDir,
  parseLogName,
  removeIfExists,
  type HeldDir,
  type Logger,
} from '@logjam/core';

export const ARCHIVE_DIR = 'archive';
export const TEMP_TAG = 'logjam-compress';
/** Our temporary files: a dot-name holding no stamp, so never a log file. */
const TEMP_NAME = /^\.logjam-compress\.\d+\.[0-9a-f]+\.tmp$/;
/** The existing name plus 25 duplicate-timestamp names, as the Python tool. */
export const MAX_DUPLICATES = 25;

/** The archive names to try, in order: NAME.gz (or NAME.zst), then the Python tool's duplicate-timestamp names. */
export function archiveNames(name: string, extension = '.gz'): string[] {
  const log = parseLogName(name);
  if (!log) throw new Error(`not a log file name: ${name}`);
  const names = [`${name}${extension}`];
  for (let index = 0; index < MAX_DUPLICATES; index += 1) {
    const tag = index === 0 ? '' : `-${String(index).padStart(2, '0')}`;
    names.push(
      formatLogName({
        prefix: `${log.prefix}-logjam-compress-duplicate-timestamp${tag}`,
        stamp: log.stamp,
        suffix: log.suffix,
        extension: `${log.extension}${extension}`,
      }),
    );
  }
  return names;
}

/** Creates archive/ if missing, and holds it open; an archive/ that is a link or not a directory is a ConfigError for that directory. */
export function ensureArchiveDir(dir: string): Promise<HeldDir> {
  return makeAndHoldDir(path.join(dir, ARCHIVE_DIR), `the archives of ${dir}`);
}

/** LOG_DIR/archive/, held open: a link there is a ConfigError, never followed. */
export function holdArchiveDir(logDir: string): Promise<HeldDir> {
  return holdDir(path.join(logDir, ARCHIVE_DIR), `the archives of ${logDir}`);
}

/** Removes temporary files left in archive/ by a run that was killed. Call with the directory's lock held. */
export async function removeLeftoverTemps(archiveDir: string, log: Logger): Promise<number> {
  let entries;
  try {
    entries = await fs.readdir(archiveDir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const entry of entries) {
    if (!entry.isFile() || !TEMP_NAME.test(entry.name)) continue;
    if (await removeIfExists(path.join(archiveDir, entry.name))) {
      removed += 1;
      log.info('removed a temporary file left by an interrupted run', { file: path.join(archiveDir, entry.name) });
    }
  }
  return removed;
}
