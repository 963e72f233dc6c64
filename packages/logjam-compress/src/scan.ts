// Which log files of a directory are due now: its log files (regular files
// only, never links) and the closing rule applied to them (select.ts).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode, nearMissReason, namePath, parseLogName, readdirEntries, type Logger } from '@logjam/core';
import { selectDue, type Candidate } from './select.js';

/** A file whose name looks like a dated log but is outside the grammar: left alone, said and counted. */
export interface IgnoredName {
  name: string;
  reason: string;
}

/** The regular files of `dir` whose names parse as log files, with their sizes (bytes) by name, and those that nearly do. */
export async function listCandidates(
  dir: string,
): Promise<{ candidates: Candidate[]; sizes: Map<string, number>; ignored: IgnoredName[] }> {
  const entries = await readdirEntries(dir);
  const candidates: Candidate[] = [];
  const sizes = new Map<string, number>();
  const ignored: IgnoredName[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue; // Dirent types come from lstat: symbolic links are not files here.
    const parsed = parseLogName(entry.name);
    if (!parsed) {
      const reason = nearMissReason(entry.name);
      if (reason) ignored.push({ name: entry.name, reason });
      continue;
    }
    let stats;
    try {
      stats = await fs.lstat(namePath(dir, entry.name));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      throw error;
    }
    if (!stats.isFile()) continue;
    candidates.push({ log: parsed, mtimeMs: stats.mtimeMs });
    sizes.set(entry.name, stats.size);
  }
  return { candidates, sizes, ignored };
}

/** The regular files of `dir` whose names parse as log files (never symlinks, directories or archive/). */
export async function scanDir(dir: string, now: number, minAgeMs: number, log: Logger) {
  const { candidates, sizes, ignored } = await listCandidates(dir);
  for (const { name, reason } of ignored)
    log.debug('not a log file name: left alone', { file: path.join(dir, name), reason });
  const selection = selectDue(candidates, { now, minAgeMs });
  // As the Python tool: compressed again, into NAME.gz.gz; said, as a writer that compresses its own logs is likely a mistake.
  for (const c of selection.due) {
    if (c.log.extension.endsWith('.gz')) {
      log.warn(
        'already gzip: compressing it again as the Python logjam did; have the writer log uncompressed, or keep compressed logs out of LOG_DIR',
        {
          file: path.join(dir, c.log.name),
          archive: path.join(dir, 'archive', `${c.log.name}.gz`),
        },
      );
    }
  }
  for (const w of selection.waiting) {
    if (w.reason === 'grace')
      log.info('closed, but modified too recently: left for a later pass', {
        file: path.join(dir, w.log.name),
        dueAt: new Date(w.dueAt).toISOString(),
      });
    else log.debug('still open', { file: path.join(dir, w.log.name), closesAt: new Date(w.dueAt).toISOString() });
  }
  return { ...selection, sizes, ignored };
}
