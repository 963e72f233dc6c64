// A --once run's set-up (a service's pass too), up to its pass: ARCHIVE_DIR walked and held, --splay
// waited out, the lock, the scan begun, the store connected and checked,
// .uploaded/ held. Each resource goes on the run's stack as it is taken, and
// is released in reverse when the run ends.
import path from 'node:path';
import {
  adoptLock,
  checkPermissions,
  EXIT_FAILED,
  EXIT_OK,
  formatAge,
  lockForMode,
  lockMessages,
  makeAndHoldDir,
  onStopSignals,
  sleepUnlessAborted,
  splayDelayMs,
  walkToDir,
  withPassMetrics,
  type Lock,
  type ResourceStack,
} from '@logjam/core';
import type { S3Client } from '@aws-sdk/client-s3';
import { holdMarkerDir, listPending, MARKER_DIR, PendingScanner, removeLeftoverMarkerTemps } from './ledger.js';
import { PreparedPass } from './pass.js';
import { StoreProfile } from './profile.js';
import { skippedWriter } from './run-pass.js';
import type { RunOptions } from './run-options.js';
import { RequestCounts } from './s3.js';
import { BucketCheck, connect, StoreWrites } from './store.js';

export const LOCK_NAME = '.logjam-upload.lock';

/** Where a run works: ARCHIVE_DIR as the user named it (for messages), as held (`io`, for all work), and this host. */
export interface Where {
  archiveDir: string;
  io: string;
  hostname: string;
}

/** What the passes of a set-up run work with. */
export interface Running {
  where: Where;
  stop: AbortSignal;
  scanner: PendingScanner;
  /** The start of the first pass, begun before S3 is reachable; the first pass takes it up. */
  early: { prepared?: PreparedPass | undefined };
  client: S3Client;
  requests: RequestCounts;
  bucket: BucketCheck;
  store: StoreWrites;
}

/** Sets a --once run up on `resources`; an exit code when it ends before its pass (stopped during --splay, lock held by another). */
export async function setUp(
  options: RunOptions,
  named: { archiveDir: string; hostname: string },
  resources: ResourceStack,
): Promise<Running | number> {
  // Stop (SIGTERM / SIGINT) from the very start, so that waiting for the lock can be interrupted too.
  const stop = new AbortController();
  resources.defer(onStopSignals(() => stop.abort()));
  const where = await holdArchiveDir(options, named, resources);
  // --splay: this host's slot in the fleet's window, waited out before anything else (no lock held,
  // no connection open); not at all when nothing waits for upload, nor in a service's pass (the service waited).
  const splayMs = splayDelayMs(where.hostname, options.splaySeconds ?? 0);
  if (!options.servicePass && splayMs > 0 && !(await waitSplay(options, where.archiveDir, splayMs, stop.signal)))
    return EXIT_FAILED;
  const lock = resources.use(await takeLock(options, where, stop.signal), (lock) => lock.release());
  if (!lock) return EXIT_OK;
  return { ...(await openStore(options, where, stop.signal, resources)), where, stop: stop.signal };
}

/**
 * ARCHIVE_DIR walked from / without following a link and held open (core's
 * walk and held-dir): everything in it from here on, the lock included, goes
 * through the folder held. As logrotate: root works only where no one else
 * could make it write elsewhere, unless told who to be, or told to accept it.
 */
export async function holdArchiveDir(
  options: RunOptions,
  named: { archiveDir: string; hostname: string },
  resources: ResourceStack,
): Promise<Where> {
  const held = await walkToDir(named.archiveDir, {
    what: 'ARCHIVE_DIR',
    binary: 'logjam-upload',
    rule: options.permissionRule,
  });
  resources.use(held, (dir) => dir.close());
  const where = { ...named, io: held.via };
  if (options.permissionRule) await checkPermissions([path.join(where.io, MARKER_DIR)], { binary: 'logjam-upload' });
  return where;
}

/** The lock on ARCHIVE_DIR as the mode wants it (a service's pass: the service's); a --once run that found it held is counted in the metrics. */
export async function takeLock(options: RunOptions, where: Where, signal: AbortSignal): Promise<Lock | null> {
  if (options.servicePass) return adoptLock(path.join(where.io, LOCK_NAME), options.servicePass.lockFd);
  let skipped = false;
  const file = path.join(where.archiveDir, LOCK_NAME);
  const lock = await lockForMode(path.join(where.io, LOCK_NAME), {
    owner: 'logjam-upload',
    once: options.once,
    signal,
    ...lockMessages('logjam-upload', { dir: where.archiveDir, file }, options.log, () => (skipped = true)),
  });
  if (!lock && skipped) await withPassMetrics(async () => undefined, skippedWriter(options, where.io));
  return lock;
}

/** With the lock held: the scan begun, the store connected and checked, .uploaded/ held and cleared of a killed run's temporary files. */
async function openStore(options: RunOptions, where: Where, signal: AbortSignal, resources: ResourceStack) {
  const { log } = options;
  const { archiveDir, io, hostname } = where;
  // The scan and the reading ahead (MD5s of large files) need no S3: they begin
  // now, while the SDK loads and the bucket is checked, and the first pass takes them up.
  const scanner = new PendingScanner(io);
  const early = {
    prepared: new PreparedPass({
      archiveDir: io,
      jobs: options.jobs,
      multipartThreshold: options.multipartThreshold,
      partSize: options.partSize,
      signal,
      scanner,
      log,
    }),
  };
  resources.defer(() => early.prepared?.close());
  const requests = new RequestCounts();
  const { client, endpoint } = await connect(options, signal, requests);
  resources.use(client, (made) => made.destroy());
  // Read before .uploaded/ is held (the bucket check uses it), through the held archive folder, never a link.
  const profile = new StoreProfile(io, log);
  const bucket = new BucketCheck(options, client, signal, { archiveDir, hostname, endpoint }, profile);
  await bucket.atStart(endpoint, early.prepared.pending);
  // Made only now, so that a configuration error leaves nothing behind; held like ARCHIVE_DIR.
  const markers = resources.use(await makeAndHoldDir(path.join(io, MARKER_DIR), 'the upload markers'), (dir) =>
    dir.close(),
  );
  resources.defer(holdMarkerDir(io, markers));
  for (const name of await removeLeftoverMarkerTemps(io)) {
    log.info('removed a temporary file left by an interrupted run', { file: path.join(archiveDir, MARKER_DIR, name) });
  }
  const store = new StoreWrites(options, client, { endpoint, archiveDir, hostname }, profile, signal);
  return { scanner, early, client, requests, bucket, store };
}

/** --once with --splay: waits this host's delay if anything is pending; false when SIGTERM cut it short (the files wait for the next run). */
async function waitSplay(
  options: RunOptions,
  archiveDir: string,
  splayMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const waiting = (await listPending(archiveDir)).length;
  if (waiting === 0) return true;
  // Said as --check says it (formatAge), so that the two figures agree.
  options.log.info(`waiting this host's splay of ${formatAge(splayMs)} before uploading`, {
    files: waiting,
    splay: formatAge((options.splaySeconds ?? 0) * 1000),
  });
  if (await sleepUnlessAborted(splayMs, signal)) return true;
  options.log.info('stopped during the splay; the files are left for the next run', { left: waiting });
  return false;
}
