// logjam-upload from checked options to an exit code: checks, then --dry-run,
// the service (supervisor.ts: each pass with work a --once child), or one
// pass: its set-up (setup.ts: lock, store), the pass (run-pass.ts), its metrics.
import os from 'node:os';
import { EXIT_OK, ResourceStack, withPassMetrics } from '@logjam/core';
import { archiveDirAppears, checkArchiveDir, checkWritable } from './archive-dir.js';
import { plan } from './plan.js';
import { deleteUploaded } from './retention.js';
import type { RunOptions } from './run-options.js';
import { metricsWriter, onePass, passContext } from './run-pass.js';
import { setUp, type Running } from './setup.js';
import { supervise } from './supervisor.js';

export { checkArchiveDir } from './archive-dir.js';
export type { RunOptions } from './run-options.js';
export { LOCK_NAME } from './setup.js';

export async function runUpload(options: RunOptions): Promise<number> {
  if (!options.once && !options.dryRun && !(await archiveDirAppears(options))) return EXIT_OK;
  const archiveDir = await checkArchiveDir(options.archiveDir);
  const hostname = options.hostname ?? os.hostname();
  if (options.dryRun) return dryRun(options, archiveDir, hostname);
  await checkWritable(archiveDir, options.metricsFile);
  if (!options.once) return supervise(options, { archiveDir, hostname });
  const resources = new ResourceStack();
  try {
    const running = await setUp(options, { archiveDir, hostname }, resources);
    return typeof running === 'number' ? running : await pass(options, running);
  } finally {
    await resources.close();
  }
}

/** The pass of a --once run (a service's pass too), taking up the scan begun at set-up; its metrics after it. */
async function pass(options: RunOptions, running: Running): Promise<number> {
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
  const prepared = early.prepared;
  early.prepared = undefined;
  const outcome = await withPassMetrics(
    () => onePass(run, { ...ctx, signal: running.stop }, prepared),
    metricsWriter(options, where.io),
  );
  return outcome.exitCode;
}

/** --dry-run: no network, nothing written: what would go where. */
async function dryRun(options: RunOptions, archiveDir: string, hostname: string): Promise<number> {
  for (const { file, uri } of await plan({ archiveDir, template: options.template, hostname }))
    process.stdout.write(`${file} -> ${uri}\n`);
  if (options.deleteUploadedAfterMs !== undefined)
    await deleteUploaded({ archiveDir, ageMs: options.deleteUploadedAfterMs, dryRun: true, log: options.log });
  return EXIT_OK;
}
