// logjam-upload from checked options to an exit code: checks, the set-up
// (setup.ts: lock, store), then one pass (--once, --dry-run) or the service
// loop (run-pass.ts), with metrics after every pass.
import os from 'node:os';
import { EXIT_OK, ResourceStack, runService, withPassMetrics } from '@logjam/core';
import { archiveDirAppears, checkArchiveDir, checkWritable } from './archive-dir.js';
import { isArchivePath } from './ledger.js';
import { plan } from './plan.js';
import { deleteUploaded } from './retention.js';
import type { RunOptions } from './run-options.js';
import { metricsWriter, onePass, passContext } from './run-pass.js';
import { setUp, type Running } from './setup.js';

export { checkArchiveDir } from './archive-dir.js';
export type { RunOptions } from './run-options.js';
export { LOCK_NAME } from './setup.js';

export async function runUpload(options: RunOptions): Promise<number> {
  if (!options.once && !options.dryRun && !(await archiveDirAppears(options))) return EXIT_OK;
  const archiveDir = await checkArchiveDir(options.archiveDir);
  const hostname = options.hostname ?? os.hostname();
  if (options.dryRun) return dryRun(options, archiveDir, hostname);
  await checkWritable(archiveDir, options.metricsFile);
  const resources = new ResourceStack();
  try {
    const running = await setUp(options, { archiveDir, hostname }, resources);
    return typeof running === 'number' ? running : await serve(options, running);
  } finally {
    await resources.close();
  }
}

/** The passes: one (--once) or the service's, the first taking up the scan begun at set-up. */
function serve(options: RunOptions, running: Running): Promise<number> {
  const { where, early } = running;
  const sizes = new Map<string, number>();
  const run = { options, bucket: running.bucket, store: running.store, sizes };
  const ctx = passContext(options, sizes, {
    archiveDir: where.io,
    hostname: where.hostname,
    client: running.client,
    scanner: running.scanner,
    requests: running.requests,
  });
  return runService({
    once: options.once,
    intervalMs: options.intervalMs,
    watchDirs: [where.archiveDir],
    earlyWatch: running.earlyWatch,
    isRelevant: isArchivePath,
    reactionDelayMs: running.splayMs,
    log: options.log,
    stop: running.stop,
    pass: (signal) => {
      const prepared = early.prepared;
      early.prepared = undefined;
      return withPassMetrics(() => onePass(run, { ...ctx, signal }, prepared), metricsWriter(options, where.io));
    },
  });
}

/** --dry-run: no network, nothing written: what would go where. */
async function dryRun(options: RunOptions, archiveDir: string, hostname: string): Promise<number> {
  for (const { file, uri } of await plan({ archiveDir, template: options.template, hostname }))
    process.stdout.write(`${file} -> ${uri}\n`);
  if (options.deleteUploadedAfterMs !== undefined)
    await deleteUploaded({ archiveDir, ageMs: options.deleteUploadedAfterMs, dryRun: true, log: options.log });
  return EXIT_OK;
}
