// Which log files of a directory are due now: its log files (regular files
// only, never links) and the closing rule applied to them (select.ts).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode, namePath, parseLogName, readdirEntries, type Logger } from '@logjam/core';
import { selectDue, type Candidate } from './select.js';

/** The regular files of `dir` whose names parse as log files, with their sizes (bytes) by name. */
export async function listCandidates(dir: string): Promise<{ candidates: Candidate[]; sizes: Map<string, number> }> {
  const entries = await readdirEntries(dir);
  const candidates: Candidate[] = [];
  const sizes = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.isFile()) continue; // Dirent types come from lstat: symbolic links are not files here.
    const parsed = parseLogName(entry.name);
    if (!parsed) continue;
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
  return { candidates, sizes };
}

/** The regular files of `dir` whose names parse as log files (never symlinks, directories or archive/). */
export async function scanDir(dir: string, now: number, minAgeMs: number, log: Logger) {
  const { candidates, sizes } = await listCandidates(dir);
  const selection = selectDue(candidates, { now, minAgeMs });
  for (const w of selection.waiting) {
    if (w.reason === 'grace') log.info('closed, but modified too recently: left for a later pass', { file: path.join(dir, w.log.name), dueAt: new Date(w.dueAt).toISOString() });
    else log.debug('still open', { file: path.join(dir, w.log.name), closesAt: new Date(w.dueAt).toISOString() });
  }
  return { ...selection, sizes };
}
