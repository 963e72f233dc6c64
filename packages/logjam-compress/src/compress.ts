// Compressing one file without ever losing it: at every instant either the
// source or a complete, verified archive exists.
//
//   source --gzip--> archive/.logjam-compress.PID.RAND.tmp --utimes, fsync--> verify
//     --> link to archive/NAME.gz (never overwrites) --fsync dir--> delete source
import { constants, promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { errorCode, fsyncDir, namePath, removeIfExists, tempName, type HeldDir, type Logger } from '@logjam/core';
import { engineOf, type Archived, type FormatOptions } from './archive-format.js';
import { ARCHIVE_DIR, archiveNames, holdArchiveDir, MAX_DUPLICATES, TEMP_TAG } from './archive-names.js';
import { sameContent } from './same-content.js';

export { ARCHIVE_DIR, archiveNames, ensureArchiveDir, removeLeftoverTemps } from './archive-names.js';

export interface CompressOptions extends FormatOptions {
  verify: boolean;
  log: Logger;
  /** Aborting rolls the work back: the temporary file goes, the source stays. */
  signal?: AbortSignal;
  /**
   * Test seam, not reachable from the command line: called with the
   * temporary file once written, before verification (the tests corrupt it
   * there, since nothing real can be made to corrupt zlib's output).
   */
  beforeVerify?: (tmp: string) => Promise<void>;
  /** LOG_DIR/archive/, held open by the pass (see core's held-dir); held for this file alone when absent. */
  archive?: HeldDir;
}

export type Outcome =
  /** Archived (possibly under a duplicate-timestamp name) and the source deleted. */
  | { kind: 'compressed'; archive: string; bytesIn: number; bytesOut: number; ms: number; duplicate: boolean }
  /** An archive with exactly the source's content already existed: the source was deleted. */
  | { kind: 'already-archived'; archive: string }
  /** The source changed while being compressed: kept, to be tried again on a later pass. */
  | { kind: 'changed'; detail: string }
  /** The source disappeared before we got to it. */
  | { kind: 'gone' }
  /** Stopped by the signal: rolled back. */
  | { kind: 'aborted' };

class SourceChanged extends Error {}

/** Compresses `logDir/name` into `logDir/archive/`, then deletes it. Throws on failure (the source is then kept). */
export async function compressFile(logDir: string, name: string, options: CompressOptions): Promise<Outcome> {
  const held = options.archive ?? (await holdArchiveDir(logDir));
  try {
    return await compressInto(held, logDir, name, options);
  } finally {
    if (!options.archive) await held.close();
  }
}

/**
 * Everything in archive/ goes through `held.via`, the directory opened at
 * the start of the pass, never through its name again; `held.verify()`
 * before the source is deleted keeps the source when archive/ was swapped
 * meanwhile (without /proc, also before each write in archive/).
 */
async function compressInto(held: HeldDir, logDir: string, name: string, options: CompressOptions): Promise<Outcome> {
  const { log, signal } = options;
  const source = path.join(logDir, name);
  // The name's own bytes when it is not UTF-8; `source` is for messages (the log shows such bytes as %XX).
  const onDisk = namePath(logDir, name);
  const archiveDir = held.via;
  const started = performance.now();

  const src = await openSource(onDisk);
  if (!src) return { kind: 'gone' };
  let tmp: string | undefined;
  try {
    const before = await src.stat();
    if (!before.isFile()) throw new Error(`${source} is not a regular file`);
    refuseHardLinked(source, before);
    const candidates = archiveNames(name, engineOf(options.format).extension);

    // Where will it go? An existing archive with the same content means a
    // previous run died between publishing and deleting: finish its work.
    const free = await findSlot(archiveDir, candidates, 0, src, options);
    if (free.kind === 'identical') return await deleteSource(logDir, name, src, before, free.archive, held, options);

    if (!held.pinned) await held.verify();
    tmp = path.join(archiveDir, tempName(TEMP_TAG));
    const sum = await writeArchive(src, tmp, before, options);
    if (!sum) return { kind: 'aborted' };
    const bytesOut = (await fs.stat(tmp)).size;
    await takeSourceOwner(tmp, before);
    await assertUnchanged(onDisk, src, before);

    if (!held.pinned) await held.verify();
    const slot = await publish(archiveDir, tmp, candidates, free.name, src, options);
    await removeIfExists(tmp);
    tmp = undefined;
    if (slot.kind === 'identical') return await deleteSource(logDir, name, src, before, slot.archive, held, options);
    await fsyncDir(archiveDir);
    const archive = path.join(ARCHIVE_DIR, slot.name);
    if (slot.name !== candidates[0]) warnDuplicateName(log, name, candidates[0]!, archive);

    // Changed after the archive was published? Keep the source: the next pass
    // archives it again under a duplicate-timestamp name, so nothing is lost.
    await assertUnchanged(onDisk, src, before);
    await held.verify();
    await fs.unlink(onDisk);
    await fsyncDir(logDir);
    return {
      kind: 'compressed',
      archive,
      bytesIn: sum.length,
      bytesOut,
      ms: Math.round(performance.now() - started),
      duplicate: slot.name !== candidates[0],
    };
  } catch (error) {
    return await outcomeOfFailure(error, held, signal);
  } finally {
    await src.close().catch(() => {});
    if (tmp) await fs.rm(tmp, { force: true }).catch(() => {});
  }
}

/** The first archive name held other content: said, since the archive is under a name that readers may not expect. */
function warnDuplicateName(log: Logger, name: string, first: string, archive: string): void {
  log.warn(`${ARCHIVE_DIR}/${first} already exists with other content; archived under a duplicate-timestamp name`, {
    file: name,
    archive,
  });
}

/** A failure that is an outcome (the source changed, the run stopped), or else the error, rethrown. */
async function outcomeOfFailure(error: unknown, held: HeldDir, signal: AbortSignal | undefined): Promise<Outcome> {
  if (error instanceof SourceChanged) return { kind: 'changed', detail: error.message };
  if (signal?.aborted && isAbort(error)) return { kind: 'aborted' };
  // archive/ swapped (or removed) under us explains the failure better: a ConfigError.
  await held.verify();
  throw error;
}

/**
 * As root, a file with more than one name is not read: the other name may be a
 * file that the folder's owner could not read (`ln /etc/shadow` where
 * fs.protected_hardlinks is 0), and its archive would be theirs to read.
 */
function refuseHardLinked(source: string, stats: Stats): void {
  if (stats.nlink <= 1 || process.geteuid?.() !== 0) return;
  throw new Error(
    `${source} has ${stats.nlink} hard links: as root, logjam-compress does not read a file that has another name, which may be a file the folder's owner could not read; it is kept: run with --user OWNER, or give it one name (cp it, then remove the original)`,
  );
}

/**
 * As root, the archive gets the source's owner, group and mode (as logrotate
 * does), whatever archive/ would give it (the group of a setgid folder): set on
 * the temporary file before it is linked into place.
 */
async function takeSourceOwner(tmp: string, before: Stats): Promise<void> {
  if (process.geteuid?.() !== 0) return;
  const archive = await fs.open(tmp, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await archive.chown(before.uid, before.gid);
    await archive.chmod(before.mode & 0o666);
    // No fsync of its own: the data was synced, and the fsync of archive/ after the link commits this metadata with it.
  } finally {
    await archive.close();
  }
}

/** Opens the source; null when it is gone. */
async function openSource(source: string | Buffer): Promise<FileHandle | null> {
  try {
    // O_NOFOLLOW: a symbolic link put in the file's place is never followed.
    // O_NONBLOCK: a FIFO put in its place (after the scan) does not block the
    // open forever; it is then refused as not a regular file. No effect on reads
    // of a regular file.
    return await fs.open(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/** Compresses the source into `tmp`, synced, and verifies it (unless --no-verify); undefined when stopped. */
async function writeArchive(
  src: FileHandle,
  tmp: string,
  before: Stats,
  options: CompressOptions,
): Promise<Archived | undefined> {
  const engine = engineOf(options.format);
  const sum = await engine.write(src, tmp, before, options);
  if (options.signal?.aborted) return undefined;
  const after = await src.stat();
  if (after.size !== sum.length || !sameVersion(before, after)) {
    throw new SourceChanged(`size or mtime changed while compressing (${before.size} -> ${after.size} bytes)`);
  }
  await options.beforeVerify?.(tmp);
  if (options.verify) {
    if ((await engine.verify(tmp, sum, options)) === 'aborted') return undefined;
  }
  return sum;
}

/**
 * Links `tmp` to the first free archive name from `name` on, never replacing
 * an existing file (link() fails with EEXIST atomically). A name taken
 * meanwhile by an archive of the same content ends the search: 'identical'.
 */
async function publish(
  archiveDir: string,
  tmp: string,
  candidates: string[],
  name: string,
  src: FileHandle,
  options: CompressOptions,
): Promise<Slot> {
  let slot: Slot = { kind: 'free', name };
  while (slot.kind === 'free') {
    try {
      await fs.link(tmp, namePath(archiveDir, slot.name));
      return slot;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    // Someone published that name meanwhile: look again from there.
    slot = await findSlot(archiveDir, candidates, candidates.indexOf(slot.name), src, options);
  }
  return slot;
}

type Slot = { kind: 'free'; name: string } | { kind: 'identical'; archive: string };

async function findSlot(
  archiveDir: string,
  candidates: string[],
  from: number,
  src: FileHandle,
  options: CompressOptions,
): Promise<Slot> {
  for (let i = Math.max(0, from); i < candidates.length; i += 1) {
    const name = candidates[i]!;
    const file = namePath(archiveDir, name);
    const stats = await fs.lstat(file).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    });
    if (!stats) return { kind: 'free', name };
    if (stats.isFile() && (await sameContent(file, src, options)))
      return { kind: 'identical', archive: path.join(ARCHIVE_DIR, name) };
  }
  throw new Error(
    `${ARCHIVE_DIR}/${candidates[0]} and all ${MAX_DUPLICATES} duplicate-timestamp names exist with other content; the source is kept: reconcile ${ARCHIVE_DIR}/ by hand`,
  );
}

async function deleteSource(
  logDir: string,
  name: string,
  src: FileHandle,
  before: Stats,
  archive: string,
  held: HeldDir,
  options: CompressOptions,
): Promise<Outcome> {
  const source = namePath(logDir, name);
  await assertUnchanged(source, src, before);
  await held.verify();
  await fs.unlink(source);
  await fsyncDir(logDir);
  options.log.info(`${archive} already holds exactly this file's content; deleted the source`, { file: name, archive });
  return { kind: 'already-archived', archive };
}

function sameVersion(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** The open file has not changed, and the name still points at it. */
async function assertUnchanged(source: string | Buffer, src: FileHandle, before: Stats): Promise<void> {
  const now = await src.stat();
  if (!sameVersion(before, now)) throw new SourceChanged(`size or mtime changed (${before.size} -> ${now.size} bytes)`);
  const named = await fs.lstat(source).catch(() => null);
  if (!named || named.ino !== before.ino || named.dev !== before.dev)
    throw new SourceChanged('the file was replaced or removed');
}

function isAbort(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'AbortError' || errorCode(error) === 'ABORT_ERR';
}
