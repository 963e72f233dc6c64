// The ledger of what is uploaded: ARCHIVE_DIR/.uploaded/NAME, one empty file
// per archive that S3 confirmed, exactly as the Python tool kept it. A marker
// is written atomically and only after S3 confirmed the upload; its mtime
// records when, which is what --delete-uploaded-after goes by.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode, fsyncDir, parseLogName, removeIfExists, tempName, writeFileAtomic, type LogName } from '@logjam/core';

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

/**
 * The markers of one pass. Each is written atomically (an empty temp file
 * renamed into place, as writeMarker does), and write() resolves only once the
 * rename is durable; but the fsyncs of .uploaded/ are shared: one fsync covers
 * every marker renamed before it started (a group commit), instead of a file
 * fsync and a folder fsync per marker. A marker still exists only for an
 * object S3 confirmed; one lost in a crash before its fsync only costs a
 * re-check (HEAD or listing) on the next run.
 */
export class MarkerWriter {
  private readonly dir: string;
  private ready: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly archiveDir: string) {
    this.dir = markerDir(archiveDir);
  }

  async write(name: string): Promise<void> {
    await this.ensureDir();
    const tmp = path.join(this.dir, tempName('logjam-write'));
    const handle = await fs.open(tmp, 'wx', 0o644);
    await handle.close();
    try {
      await fs.rename(tmp, path.join(this.dir, name));
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw error;
    }
    await this.sync();
  }

  private ensureDir(): Promise<void> {
    this.ready ??= (async () => {
      try {
        await fs.mkdir(this.dir);
        await fsyncDir(this.archiveDir);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Resolves after an fsync of the folder that started after this call. */
  private sync(): Promise<void> {
    if (!this.syncing) {
      const run = fsyncDir(this.dir).finally(() => {
        if (this.syncing === run) this.syncing = undefined;
      });
      this.syncing = run;
      return run;
    }
    this.queued ??= this.syncing
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.sync();
      });
    return this.queued;
  }
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

/**
 * listPending for a service's repeated passes. When a scan found nothing
 * pending, it remembers the identity and times (mtime, ctime) of ARCHIVE_DIR
 * and .uploaded/; while both stay the same, nothing was added, renamed or
 * removed in either, so nothing can have become pending: the next scans answer
 * at the cost of two stats instead of reading and parsing every name. Stamps
 * younger than settleMs are not trusted (a change within the file system's
 * timestamp granularity could leave them equal), nor is any scan that found
 * pending files (a failed file is retried on every pass).
 */
export class PendingScanner {
  private idle: string | undefined;

  constructor(
    private readonly archiveDir: string,
    private readonly settleMs = 2_000,
  ) {}

  async list(): Promise<LogName[]> {
    const now = Date.now();
    const stamp = await dirStamp(this.archiveDir);
    if (stamp && stamp.key === this.idle) return [];
    const pending = await listPending(this.archiveDir);
    this.idle = pending.length === 0 && stamp && stamp.newestMs < now - this.settleMs ? stamp.key : undefined;
    return pending;
  }
}

async function dirStamp(archiveDir: string): Promise<{ key: string; newestMs: number } | null> {
  try {
    const stats = await Promise.all([fs.stat(archiveDir, { bigint: true }), fs.stat(markerDir(archiveDir), { bigint: true }).catch((error: unknown) => (errorCode(error) === 'ENOENT' ? null : Promise.reject(error)))]);
    const key = stats.map((s) => (s ? `${s.dev}:${s.ino}:${s.mtimeNs}:${s.ctimeNs}` : '-')).join('|');
    const newestMs = Math.max(...stats.map((s) => (s ? Number(s.mtimeNs > s.ctimeNs ? s.mtimeNs : s.ctimeNs) / 1e6 : 0)));
    return { key, newestMs };
  } catch {
    return null; // listPending says what is wrong
  }
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
