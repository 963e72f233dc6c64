// logjam-upload's options as cli.ts checked them, for run.ts and the parts of a
// run; types only, in a file of their own so that no part imports run.ts back.
import type { ErrorReporter, Logger, Progress } from '@logjam/core';
import type { ConnectOptions, StoreOptions } from './store.js';

export interface RunOptions extends ConnectOptions, StoreOptions {
  archiveDir: string;
  dryRun: boolean;
  jobs: number;
  intervalMs: number;
  multipartThreshold: number;
  partSize: number;
  deleteUploadedAfterMs?: number | undefined;
  hostname?: string;
  log: Logger;
  /** Errors that fail a file or a pass go there too (Sentry), tagged with the directory and the file. */
  reporter?: ErrorReporter | undefined;
  /** The progress bar of a --once pass at a terminal. */
  progress?: Progress | undefined;
  /** Rewritten after every pass, in the Prometheus text format. */
  metricsFile?: string | undefined;
  /** As root, refuse an ARCHIVE_DIR or .uploaded/ that other users can write (off with --user or --insecure-permissions). */
  permissionRule: boolean;
  /** --splay: the window (seconds, maybe fractional) from which this host's delay before a pass is drawn; 0 for none. */
  splaySeconds?: number;
  /** This run is a pass a service started (core's service-pass.ts): the service's lock, inherited as this descriptor. */
  servicePass?: { lockFd: number } | undefined;
}
