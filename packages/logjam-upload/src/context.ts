// What a pass over ARCHIVE_DIR works with: the user's settings, and what the
// process shares between passes (the client, the stop signal, what the store
// turned out to support). Types only.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@logjam/core';
import type { ConditionalWrites } from './write-settings.js';
import type { PendingScanner } from './ledger.js';
import type { RequestCounts, RequestTally } from './s3.js';
import type { MultipartSettings } from './multipart.js';
import type { Template } from './template.js';

export interface UploadSettings extends MultipartSettings {
  archiveDir: string;
  template: Template;
  hostname: string;
  jobs: number;
  storageClass?: string | undefined;
  sse?: string | undefined;
  sseKmsKeyId?: string | undefined;
}

export interface PassContext extends UploadSettings {
  /** Made by createClient with the same stop signal as `signal`: it aborts the requests in flight. */
  client: S3Client;
  log: Logger;
  signal: AbortSignal;
  /** What the store honours of If-None-Match: * (the store check's answer, store.ts); cleared when it answers 501. */
  conditionalWrites: ConditionalWrites;
  /** Cleared when ListObjectsV2 is refused (no s3:ListBucket): HEAD per file from then on. */
  listing?: { supported: boolean };
  /** A service's scanner, which skips re-reading an unchanged, idle folder; without it every pass lists the folder. */
  scanner?: PendingScanner;
  /** Called as each pending file is done with, with the error that failed it if any (progress bar, Sentry). */
  onFileDone?: (name: string, error?: unknown) => void;
  /** A service's pass that found nothing to upload logs its summary at debug, not info. */
  quietWhenIdle?: boolean;
  /** Counts the client's requests; each pass reports (and takes) what was sent since the last. */
  requests?: RequestCounts | undefined;
}

/**
 * What became of a pass's pending files. Every file lands in exactly one of
 * uploaded, alreadyThere, conflicts, failed, notDone and vanished (checked at
 * the end of every pass: a file in none of them would be one never shipped
 * and never reported).
 */
export interface PassSummary {
  pending: number;
  /** Uploaded under its key. */
  uploaded: number;
  /** Its key already held this very file: marked only. */
  alreadyThere: number;
  /** Its key held a different object: uploaded to a conflict key (or found already there). */
  conflicts: number;
  /** Of the conflicts, those uploaded now. */
  conflictUploads: number;
  failed: number;
  /** Left for the next run (interrupted, or the pass stopped). */
  notDone: number;
  /** Removed by someone else before it could be read. */
  vanished: number;
  bytes: number;
  /** Unfinished multipart uploads of earlier runs (a kill) found at the keys written, and aborted. */
  orphans?: number;
  /** Set when the bucket or the credentials failed: no file can succeed. */
  fatal?: Error;
  /** The requests sent since the previous pass (the run's start-up checks count in its first pass). */
  requests?: RequestTally;
  /** The names of the files no longer pending (uploaded, already there, conflicts, vanished): the rest are the backlog left. */
  settled?: Set<string>;
}
