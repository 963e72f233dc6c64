// ARCHIVE_DIR before anything is done in it: named `archive` (as the Python
// tool demands), a folder and no link, writable by this user; a service waits
// for one that logjam-compress has not made yet.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  checkMetricsFile,
  checkNotLink,
  checkWritableDir,
  ConfigError,
  errorCode,
  folderProblem,
  onStopSignals,
  UsageError,
  waitForDir,
  type Logger,
} from '@logjam/core';
import { MARKER_DIR } from './ledger.js';

/** ARCHIVE_DIR's absolute path; it must be named `archive`, as the Python tool demands. */
function archiveDirPath(dir: string): string {
  const resolved = path.resolve(dir);
  if (path.basename(resolved) !== 'archive') {
    throw new UsageError(
      `ARCHIVE_DIR must be the folder named 'archive' that logjam-compress fills (such as /var/log/hourly/archive/), not '${dir}'`,
    );
  }
  return resolved;
}

/** ARCHIVE_DIR must be a folder named `archive`, as the Python tool demands. */
export async function checkArchiveDir(dir: string): Promise<string> {
  const resolved = archiveDirPath(dir);
  const problem = await folderProblem(resolved);
  if (problem === 'missing') throw new ConfigError(`cannot use ARCHIVE_DIR '${dir}': no such folder`);
  if (problem === 'not a folder') throw new ConfigError(`ARCHIVE_DIR '${dir}' is not a folder`);
  if (problem === 'denied')
    throw new ConfigError(`cannot use ARCHIVE_DIR '${dir}': this user may not read the path to it`);
  if (problem) throw new ConfigError(`cannot use ARCHIVE_DIR '${dir}': ${problem.code}`);
  // The folder itself must not be a link (the path up to it is the user's own choice).
  await checkNotLink(resolved, 'the archives');
  await checkNotLink(path.join(resolved, MARKER_DIR), 'the upload markers');
  return resolved;
}

/**
 * As a service, an ARCHIVE_DIR that does not exist yet is waited for (logjam-compress makes it with its
 * first archive; the two services start together at boot), said once at INFO. False when stopped first.
 */
export async function archiveDirAppears(options: {
  archiveDir: string;
  intervalMs: number;
  log: Logger;
}): Promise<boolean> {
  const dir = archiveDirPath(options.archiveDir);
  const missing = await fs.lstat(dir).then(
    () => false,
    (error: unknown) => errorCode(error) === 'ENOENT',
  );
  if (!missing) return true;
  // SIGTERM handled before the line is out: whoever reads it may stop the service at once.
  const stop = new AbortController();
  const offSignals = onStopSignals(() => stop.abort());
  options.log.info(`${dir} does not exist yet; waiting for it (logjam-compress makes it with its first archive)`, {
    dir,
  });
  try {
    if (await waitForDir(dir, { signal: stop.signal, pollMs: options.intervalMs })) return true;
    options.log.info('stopped');
    return false;
  } finally {
    offSignals();
  }
}

/** What this user must be able to write, checked before any work: ARCHIVE_DIR, .uploaded/ if it exists, the metrics file's folder. */
export async function checkWritable(archiveDir: string, metricsFile: string | undefined): Promise<void> {
  const binary = 'logjam-upload';
  await checkWritableDir(archiveDir, { what: 'its lock and the .uploaded/ markers', binary });
  const markers = path.join(archiveDir, MARKER_DIR);
  if (
    await fs.stat(markers).then(
      () => true,
      () => false,
    )
  )
    await checkWritableDir(markers, { what: 'the marker of each uploaded file', binary });
  if (metricsFile !== undefined) await checkMetricsFile(metricsFile, binary);
}
