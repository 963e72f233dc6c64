// The ledger of what is uploaded: ARCHIVE_DIR/.uploaded/NAME, one empty file
// per archive that S3 confirmed, exactly as the Python tool kept it. A marker
// is written atomically and only after S3 confirmed the upload; its mtime
// records when, which is what --delete-uploaded-after goes by.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode, fsyncDir, parseLogName, removeIfExists, writeFileAtomic, type LogName } from '@logjam/core';

export const MARKER_DIR = '.uploaded';

export function markerDir(archiveDir: string): string {
  return path.join(archiveDir, MARKER_DIR);
}

export function markerPath(archiveDir: string, name: string): string {
  return path.join(markerDir(archiveDir), name);
}

/** Names that have a marker. */
export async function readMarkers(archiveDir: string): Promise<Set<string>> {
  try {
    return new Set((await fs.readdir(markerDir(archiveDir))).filter((name) => !name.startsWith('.')));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return new Set();
    throw error;
  }
}

/** Records that `name` is in S3: an empty marker, written atomically and made durable. */
export async function writeMarker(archiveDir: string, name: string): Promise<void> {
  const dir = markerDir(archiveDir);
  try {
    await fs.mkdir(dir);
    await fsyncDir(archiveDir);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  }
  await writeFileAtomic(markerPath(archiveDir, name), '');
}

/** The temporary file writeMarker renames into place; a run killed in between leaves it behind. */
const MARKER_TEMP = /^\.logjam-write\.\d+\.[0-9a-f]+\.tmp$/;

/** Removes marker temporary files left by a killed run. Call with the archive folder's lock held. */
export async function removeLeftoverMarkerTemps(archiveDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(markerDir(archiveDir));
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => MARKER_TEMP.test(n))) {
    if (await removeIfExists(markerPath(archiveDir, name))) removed.push(name);
  }
  return removed;
}

/** Whether a name in ARCHIVE_DIR is an archive that may be uploaded (not a temp, dot or lock file). */
export function archiveName(name: string): LogName | null {
  return parseLogName(name);
}

/** Archives without a marker, oldest first. */
export async function listPending(archiveDir: string): Promise<LogName[]> {
  const [names, markers] = await Promise.all([fs.readdir(archiveDir), readMarkers(archiveDir)]);
  const pending: LogName[] = [];
  for (const name of names) {
    const log = archiveName(name);
    if (log && !markers.has(name)) pending.push(log);
  }
  return pending.sort((a, b) => a.time - b.time || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface Expired {
  name: string;
  /** When S3 confirmed it (the marker's mtime). */
  uploadedAt: number;
}

/** Markers written longer than `ageMs` ago. */
export async function listExpired(archiveDir: string, ageMs: number, now = Date.now()): Promise<Expired[]> {
  const markers = [...(await readMarkers(archiveDir))].sort();
  const expired: Expired[] = [];
  for (const name of markers) {
    let stat;
    try {
      stat = await fs.lstat(markerPath(archiveDir, name));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      throw error;
    }
    if (stat.isFile() && now - stat.mtimeMs > ageMs) expired.push({ name, uploadedAt: stat.mtimeMs });
  }
  return expired;
}

/**
 * Removes an uploaded archive, then its marker: a crash in between leaves a
 * marker without an archive, which the next cleanup removes.
 */
export async function removeUploaded(archiveDir: string, name: string): Promise<{ archiveRemoved: boolean }> {
  const archiveRemoved = await removeIfExists(path.join(archiveDir, name));
  if (archiveRemoved) await fsyncDir(archiveDir);
  await removeIfExists(markerPath(archiveDir, name));
  await fsyncDir(markerDir(archiveDir));
  return { archiveRemoved };
}
