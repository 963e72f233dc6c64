// The ledger of what is uploaded: ARCHIVE_DIR/.uploaded/NAME, one empty file
// per archive that S3 confirmed, exactly as the Python tool kept it. A marker
// is written atomically and only after S3 confirmed the upload; its mtime
// records when, which is what --delete-uploaded-after goes by.
import { closeSync, constants, openSync, promises as fs } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import {
  compareLogNames,
  errorCode,
  fsyncDir,
  namePath,
  parseLogName,
  readdirEntries,
  readdirNames,
  removeIfExists,
  tempName,
  type HeldDir,
  type LogName,
} from '@logjam/core';

export const MARKER_DIR = '.uploaded';

/** .uploaded/ folders held open by a run (see core's held-dir), by the archive folder's path. */
const heldMarkerDirs = new Map<string, HeldDir>();

/**
 * From now on, markers of `archiveDir` go through `markers`, the .uploaded/
 * folder held open, never through its name again (someone who can write
 * ARCHIVE_DIR could swap it for a link). Returns what undoes it.
 */
export function holdMarkerDir(archiveDir: string, markers: HeldDir): () => void {
  heldMarkerDirs.set(archiveDir, markers);
  return () => {
    if (heldMarkerDirs.get(archiveDir) === markers) heldMarkerDirs.delete(archiveDir);
  };
}

export function markerDir(archiveDir: string): string {
  return heldMarkerDirs.get(archiveDir)?.via ?? path.join(archiveDir, MARKER_DIR);
}

/** A marker's path: the archive's own name, its own bytes when the name is not UTF-8 (as the Python tool wrote it). */
export function markerPath(archiveDir: string, name: string): string | Buffer {
  return namePath(markerDir(archiveDir), name);
}

/** Least time between two fsyncs of .uploaded/ (see MarkerWriter.sync). */
export const SYNC_SPACING_MS = 50;

/**
 * Creates an empty file that must not exist yet (EEXIST otherwise; never
 * follows a link). Synchronous, on the main thread: a marker per uploaded
 * file, and through libuv's pool its open and close are two round trips
 * between threads. 2000 small archives to Ceph RGW, their reads (local.ts)
 * made synchronous too: 51,000 context switches became 15,000, and client CPU
 * fell by a third; the reads alone changed nothing measurable.
 */
function createEmpty(file: string | Buffer): void {
  closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644));
}

/** Names that have a marker: a regular file (a link or a folder put there by someone else is no marker). */
export async function readMarkers(archiveDir: string): Promise<Set<string>> {
  try {
    return new Set(
      (await readdirEntries(markerDir(archiveDir)))
        .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
        .map((entry) => entry.name),
    );
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return new Set();
    throw error;
  }
}

/**
 * The markers of one pass. A marker is an empty file, so creating it with
 * O_EXCL is already atomic: no temporary file and rename (a name that is
 * somehow taken is replaced atomically, through a temporary file). The fsyncs
 * of .uploaded/ are shared: one fsync covers every marker created before it
 * started (a group commit), and create() does not wait for it, so an upload
 * job moves on to its next file while the folder is synced; the pass counts a
 * file as done only once `durable` resolved. A marker still exists only for
 * an object S3 confirmed; one lost in a crash before its fsync only costs a
 * re-check (HEAD or listing) on the next run.
 */
export class MarkerWriter {
  private readonly dir: string;
  private ready: Promise<void> | undefined;
  /** The fsync in progress, and the one that will follow it (which new markers join). */
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private lastSyncEnd = 0;

  constructor(private readonly archiveDir: string) {
    this.dir = markerDir(archiveDir);
  }

  /** Creates the marker; `durable` resolves after an fsync of the folder that started after it was created. */
  async create(name: string): Promise<{ durable: Promise<void> }> {
    await this.ensureDir();
    const file = namePath(this.dir, name);
    try {
      createEmpty(file);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      await this.replace(file);
    }
    const durable = this.sync();
    // The caller may attach its handlers a little later; a failed fsync is its to report.
    durable.catch(() => {});
    return { durable };
  }

  /** A fresh empty marker in place of whatever holds the name (a file, a link), atomically. */
  private async replace(file: string | Buffer): Promise<void> {
    const tmp = path.join(this.dir, tempName('logjam-write'));
    createEmpty(tmp);
    try {
      await fs.rename(tmp, file);
    } catch (error) {
      await fs.rm(tmp, { force: true });
      throw error;
    }
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

  /**
   * Resolves after an fsync of the folder that started after this call. The
   * fsyncs run one at a time, at least SYNC_SPACING_MS apart (from the end of
   * one to the start of the next): each forces a journal commit, which the
   * whole file system pays for, and nobody waits on a single marker.
   */
  private sync(): Promise<void> {
    this.next ??= (async () => {
      await this.running?.catch(() => {});
      const wait = this.lastSyncEnd + SYNC_SPACING_MS - Date.now();
      if (wait > 0) await delay(wait);
      // Markers created from here on are not covered by the fsync below: they schedule the next one.
      this.next = undefined;
      const run = fsyncDir(this.dir).finally(() => {
        this.lastSyncEnd = Date.now();
        if (this.running === run) this.running = undefined;
      });
      this.running = run;
      return run;
    })();
    return this.next;
  }
}

/** The temporary file that replaces a taken marker name (which MarkerWriter renames into place); a run killed in between leaves it behind. */
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

/** For the service's watcher: whether a path may be a new archive (a log file name; not a temp, dot or lock file). */
export function isArchivePath(file: string): boolean {
  return parseLogName(path.basename(file)) !== null;
}

/** Archives without a marker, oldest first. */
export async function listPending(archiveDir: string): Promise<LogName[]> {
  const [names, markers] = await Promise.all([readdirNames(archiveDir), readMarkers(archiveDir)]);
  const pending: LogName[] = [];
  for (const name of names) {
    // The marker first: in a folder of 100,000 uploaded archives, parsing every name is most of the scan's time and memory.
    if (markers.has(name)) continue;
    const log = parseLogName(name);
    if (log) pending.push(log);
  }
  return pending.sort(compareLogNames);
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
    const stats = await Promise.all([
      fs.stat(archiveDir, { bigint: true }),
      fs
        .stat(markerDir(archiveDir), { bigint: true })
        .catch((error: unknown) => (errorCode(error) === 'ENOENT' ? null : Promise.reject(error))),
    ]);
    const key = stats.map((s) => (s ? `${s.dev}:${s.ino}:${s.mtimeNs}:${s.ctimeNs}` : '-')).join('|');
    const newestMs = Math.max(
      ...stats.map((s) => (s ? Number(s.mtimeNs > s.ctimeNs ? s.mtimeNs : s.ctimeNs) / 1e6 : 0)),
    );
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
  const archiveRemoved = await removeIfExists(namePath(archiveDir, name));
  if (archiveRemoved) await fsyncDir(archiveDir);
  await removeIfExists(markerPath(archiveDir, name));
  await fsyncDir(markerDir(archiveDir));
  return { archiveRemoved };
}
