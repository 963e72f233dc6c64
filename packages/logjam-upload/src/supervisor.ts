// logjam-upload as a service: a supervisor that holds ARCHIVE_DIR and its
// lock, watches it, and runs each pass that has archives to upload as a
// --once child handed that lock (core's service-pass.ts). The supervisor
// never loads the AWS SDK nor keeps what a pass allocated, and runs without
// V8's JIT (core's lean-service.ts), so it idles near Node's own footprint; a
// pass with nothing to upload is only a listing here.
import {
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  ResourceStack,
  becomeLeanService,
  runPassChild,
  runService,
  withPassMetrics,
  onStopSignals,
  splayDelayMs,
  type Lock,
} from '@logjam/core';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { isArchivePath, listPending } from './ledger.js';
import { emptySummary, sayPassDone } from './pass.js';
import type { RunOptions } from './run-options.js';
import { backlogFor, metricsWriter, retention } from './run-pass.js';
import { holdArchiveDir, LOCK_NAME, takeLock, type Where } from './setup.js';

/** The service: passes until SIGTERM / SIGINT; its exit code. */
export async function supervise(options: RunOptions, named: { archiveDir: string; hostname: string }): Promise<number> {
  becomeLeanService(options.log);
  const resources = new ResourceStack();
  try {
    // Stop from the very start, so that waiting for the lock can be interrupted too.
    const stop = new AbortController();
    resources.defer(onStopSignals(() => stop.abort()));
    const where = await holdArchiveDir(options, named, resources);
    const lock = resources.use(await takeLock(options, where, stop.signal), (lock) => lock.release());
    if (!lock) return EXIT_OK;
    const lockFd = resources.use(await lockDescriptor(lock, where), (fd) => fd.close());
    // The first pass is always a child's: it checks the bucket as the service starts, and a
    // configuration error then (exit 2: a bucket that does not exist, no credentials) ends the service.
    let first = true;
    return await runService({
      once: false,
      intervalMs: options.intervalMs,
      watchDirs: [where.archiveDir],
      isRelevant: isArchivePath,
      reactionDelayMs: splayDelayMs(where.hostname, options.splaySeconds ?? 0),
      log: options.log,
      stop: stop.signal,
      pass: async (signal) => {
        const exitCode = await supervisedPass(options, where, { lockFd: lockFd.fd, signal, always: first });
        const final = first && exitCode === EXIT_USAGE;
        first = false;
        return { exitCode, final };
      },
    });
  } finally {
    await resources.close();
  }
}

/**
 * One pass. Nothing pending (after the first): what an idle pass does (--delete-uploaded-after,
 * the metrics) is done here. Else a child uploads and writes the metrics; when
 * a signal ended it, they are written here (the pass failed; its files wait).
 */
async function supervisedPass(
  options: RunOptions,
  where: Where,
  { lockFd, signal, always }: { lockFd: number; signal: AbortSignal; always: boolean },
): Promise<number> {
  const writer = metricsWriter(options, where.io);
  const started = Date.now();
  const pending = await listPending(where.io);
  if (pending.length === 0 && !always) {
    const idle = await withPassMetrics(async () => {
      // Said as a pass says it, at debug: an idle host logs nothing per rescan.
      sayPassDone(options.log.debug, emptySummary(0), Date.now() - started);
      return { exitCode: (await retention(options, where.io, signal)) ? EXIT_OK : EXIT_FAILED, backlog: [] };
    }, writer);
    return idle.exitCode;
  }
  const code = await runPassChild(process.argv.slice(2), lockFd, { signal, log: options.log });
  if (code < 128) return code;
  await withPassMetrics(
    async () => ({ exitCode: EXIT_FAILED, backlog: await backlogFor(options, where.io, await listPending(where.io)) }),
    writer,
  );
  return EXIT_FAILED;
}

/**
 * The descriptor of the lock file that each pass is handed: the lock's own
 * (flock: the child checks that its description holds the lock), or, for a
 * pid file, one opened through the held folder without following a link.
 */
async function lockDescriptor(lock: Lock, where: Where): Promise<{ fd: number; close(): Promise<void> }> {
  if (lock.handle) return { fd: lock.handle.fd, close: async () => undefined };
  const handle = await fs.open(path.join(where.io, LOCK_NAME), constants.O_RDONLY | constants.O_NOFOLLOW);
  return { fd: handle.fd, close: () => handle.close() };
}
