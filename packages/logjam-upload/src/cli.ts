#!/usr/bin/env node
// logjam-upload: ship ARCHIVE_DIR to S3, exactly once, under keys from a template.
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'clipanion';
import { checkBacklog, handOverToUser, LogjamCommand, oneLine, parseDuration, parseInteger, parseSize, readVersion, runProgram, splayDelayMs, UsageError, type RunTools } from '@logjam/core';
import * as t from 'typanion';
import { uploadBacklog } from './monitor.js';
import { DEFAULT_JOBS } from './defaults.js';
import { checkArchiveDir, runUpload } from './run.js';
import { RETRY_MODES, type RetryMode } from './s3.js';
import { CONDITIONAL_WRITES_MODES, type ConditionalWritesMode } from './conditional.js';
import { parseTemplate } from './template.js';
import { MAX_PUT_SIZE, MIN_PART_SIZE } from './multipart.js';
import { installWarningFilter, isNodeVersionWarning, routeWarnings } from './warnings.js';

// Before any SDK client exists: its Node 20 warning must not reach cron's mail.
installWarningFilter();

export class UploadCommand extends LogjamCommand {
  static override paths = [Command.Default];

  static override usage = Command.Usage({
    description: 'Upload the archives logjam-compress made to S3, exactly once',
    details: `
      Uploads every archived log file in ARCHIVE_DIR (a folder named \`archive\`) that has no marker in ARCHIVE_DIR/.uploaded/ to the S3 key rendered from URI_TEMPLATE, then writes the marker.

      URI_TEMPLATE is s3://BUCKET/KEY-TEMPLATE. Mandatory fields: {prefix} {year} {month} {day} {filename}. Optional: {hour} {minute} {suffix} {extension} {hostname}. Dates come from the file name's UTC stamp. Fields render as the Python logjam's str.format rendered them: with Python's format specs and conversions ({year:04d}, {prefix:.3}, {month!s}; {year} is an integer, the others strings), {{ and }} for literal braces. Fields may be in the bucket name too (s3://logs-{prefix}/...): each file goes to its own bucket.

      A file name that is not valid UTF-8 is uploaded under a key where each byte of an invalid sequence is written %XX, and shown so in the logs.

      An object that already holds the key with the same content only gets its marker; a different one is never overwritten: the file goes to a conflict key beside it (PREFIX-logjam-upload-conflict-01-STAMP...).

      The store's If-None-Match (conditional writes) is learned with a probe under BUCKET/FOLDER/.logjam-probe/HOST-XXXXXXXX (deleted after), about once a week: what it found is kept in ARCHIVE_DIR/.uploaded/.logjam-store-profile.json (delete it to probe again), with what the store refused this host (said at WARN once): where PutObject honours it, small files go in one conditional PUT with no HEAD first; where CompleteMultipartUpload does not (Ceph RGW 16, MinIO before 2024), a multipart upload first claims its key with an empty conditional PUT and checks it right before completing. --conditional-writes no skips the probe, and so do yes and put-only against AWS S3 (without --endpoint-url, auto counts as yes); on a custom endpoint yes and put-only are verified once, and a store that does less is a configuration error. A store that refuses --storage-class, --sse or --sse-kms-key-id is a configuration error at start.

      Whether a key is taken is asked with HEAD, or, for four or more pending files under one key prefix, with one ListObjectsV2 of that prefix (HEAD still settles what the listing cannot, and everything without s3:ListBucket). Where PutObject honours If-None-Match, a file sent in one PUT asks nothing first: the PUT tells, and a folder is listed only once one of its keys turned out taken.

      Without --once it runs as a service: uploads, then waits for new archives (and rescans every --interval seconds). Credentials come from the standard AWS chain (environment, profile, SSO, web identity, ECS, EC2 instance role).

      One instance per folder: a lock file ARCHIVE_DIR/.logjam-upload.lock; --once skips a folder whose lock a running logjam-upload holds, said at WARN and counted in the metrics. No link is ever followed: ARCHIVE_DIR and .uploaded/ are opened once without following a link and used through their descriptors; either, or the lock, as a link is a configuration error (exit 2). As root, an ARCHIVE_DIR or .uploaded/ writable by a group other than root's or by every user is refused, as logrotate does, unless --user USER[:GROUP] says who to do the work as (a child process started as that user does it all) or --insecure-permissions accepts the risk.

      Exit codes: 0 all done; 1 some file failed (the others were done); 2 bad command line or configuration (template, folder, credentials, bucket).

      With --once at a terminal, a progress bar (files, bytes, rate, ETA) shows on stderr; never when stderr is not a terminal (cron, runit, systemd).

      Monitoring: --check prints the archives not yet uploaded and exits 0 (OK) when the oldest (by its mtime, the time of its last log line) is younger than --max-age, 1 (WARNING) when older, 2 for a usage error (Nagios / Sensu plugin convention); no network, no lock, touches nothing. --metrics-file PATH rewrites PATH after every pass in the Prometheus text format (node_exporter's textfile collector). With SENTRY_DSN set, every error that fails a file or a pass, and configuration errors at start, are reported to Sentry, tagged with the directory and the file.

      Fleets: --splay SECONDS waits this host's own delay (from its host name, the same every run) before a --once pass and before reacting to new archives, so that hosts on one cron line do not reach S3 together. Throttling (503 SlowDown, 429) is retried by the AWS SDK with backoff and jitter; a file still throttled fails, and the pass leaves the rest, unmarked, for the next run. Each pass logs its requests by method.

      Every flag can also be set in the environment as LOGJAM_<FLAG>: LOGJAM_JOBS=8, LOGJAM_ENDPOINT_URL=http://minio:9000, LOGJAM_ONCE=1 (switches take 1/0, true/false, yes/no, on/off). A flag on the command line wins; a bad value is a usage error naming the variable.
    `,
    examples: [
      ['Upload once, from cron', `$0 --once /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`],
      ['Run as a service', `$0 /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`],
      ['Show what would go where, touching nothing', `$0 --dry-run /var/log/hourly/archive/ 's3://my-log-bucket/{hostname}/{prefix}/{year}/{month}/{day}/{filename}'`],
      ['Nagios / Sensu check: has anything waited for upload more than 2 hours?', `$0 --check --max-age 2h /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`],
      [
        'Upload to MinIO, removing local archives a week after upload',
        `$0 --once --endpoint-url http://minio:9000 --force-path-style --delete-uploaded-after 7d /var/log/hourly/archive/ 's3://logs/{prefix}/{year}/{month}/{day}/{filename}'`,
      ],
    ],
  });

  once = Option.Boolean('--once', false, { description: 'One pass, then exit (for cron); without it, run as a service' });
  dryRun = Option.Boolean('--dry-run', false, { description: 'Print "FILE -> URI" for each pending file on stdout; no network, nothing written (implies one pass)' });
  region = Option.String('--region', { description: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, the instance's region, then us-east-1)" });
  endpointUrl = Option.String('--endpoint-url', { description: 'S3-compatible endpoint such as http://minio:9000 (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS)' });
  forcePathStyle = Option.Boolean('--force-path-style', false, { description: 'Bucket in the path, not the host name (MinIO, Ceph; default: off)' });
  storageClass = Option.String('--storage-class', { description: "Storage class of the objects, such as STANDARD_IA or GLACIER_IR (default: the bucket's)" });
  sse = Option.String('--sse', { description: "Server-side encryption: AES256 or aws:kms (default: the bucket's)" });
  sseKmsKeyId = Option.String('--sse-kms-key-id', { description: "KMS key for --sse aws:kms (default: the account's aws/s3 key)" });
  conditionalWrites = Option.String('--conditional-writes', 'auto', {
    description: 'Whether the store honours If-None-Match: * on PutObject and CompleteMultipartUpload: auto (probe it; AWS: yes), yes, put-only (PutObject alone, as Ceph RGW 16), no (default: auto)',
  });
  jobs = Option.String('--jobs', String(DEFAULT_JOBS), { description: `Files uploaded in parallel (default: ${DEFAULT_JOBS})` });
  interval = Option.String('--interval', '60', { description: 'Service mode: seconds between rescans, besides reacting to new files (default: 60)' });
  // 200M, as rclone: below it one PUT streamed from the file is faster than
  // parts (one request, nothing for the store to join), leaves no unfinished
  // upload behind after a kill, and gets a plain MD5 ETag that a listing can check.
  multipartThreshold = Option.String('--multipart-threshold', '200M', {
    description: 'Files this large or larger go multipart; smaller ones in one PUT streamed from disk (as rclone; 5M to 5G) (default: 200M)',
  });
  partSize = Option.String('--part-size', '8M', { description: 'Size of the parts of a multipart upload, 5M to 5G; parts are streamed from disk, so memory does not grow with it (default: 8M)' });
  deleteUploadedAfter = Option.String('--delete-uploaded-after', {
    description: 'Remove local archives (and markers) confirmed uploaded longer ago than this, such as 7d, 12h, 30m or seconds (default: keep them)',
  });
  check = Option.Boolean('--check', false, {
    description: 'Print the archives not yet uploaded; exit 0 if the oldest is younger than --max-age, 1 if older (a Nagios / Sensu check); no network, no lock (default: off)',
  });
  maxAge = Option.String('--max-age', '2h', { description: 'With --check: the age of the oldest archive not yet uploaded beyond which the check fails, such as 90m, 2h, 1d or seconds (default: 2h)' });
  splay = Option.String('--splay', '0', {
    description:
      "Before a --once pass, and before reacting to new archives, wait this host's own delay from 0 to SECONDS, derived from the host name (the same every run), so that a fleet does not reach S3 in the same second; --check allows for it (default: 0, no wait)",
  });
  hostname = Option.String('--hostname', { description: "The host name for {hostname} in keys and for --splay's delay (default: the system's host name)" });
  retryMode = Option.String('--retry-mode', 'standard', {
    description:
      "The AWS SDK's retry mode: standard (up to 5 attempts, exponential backoff with jitter, longer after throttling: 503 SlowDown, 429) or adaptive (the same, plus a client-side rate limit that slows down when throttled) (default: standard)",
    validator: t.isEnum(RETRY_MODES),
  }) as RetryMode;
  metricsFile = Option.String('--metrics-file', {
    description: "After every pass, rewrite this file atomically with metrics in the Prometheus text format, for node_exporter's textfile collector (default: none)",
  });
  user = Option.String('--user', {
    description:
      "USER[:GROUP]: do all the work as this user (and group; default: the user's own), in a child process started as that user, with its HOME: root then never opens, writes or deletes a file in ARCHIVE_DIR itself; for an ARCHIVE_DIR other users can write (default: the user running logjam-upload)",
  });
  insecurePermissions = Option.Boolean('--insecure-permissions', false, {
    description:
      "As root without --user, work in an ARCHIVE_DIR (or its .uploaded/) that a group other than root's, or every user, can write, accepting that they could try to make root write elsewhere (default: refuse it, as logrotate does)",
  });
  archiveDir = Option.String({ name: 'ARCHIVE_DIR' });
  uriTemplate = Option.String({ name: 'URI_TEMPLATE' });

  async run(): Promise<number> {
    const maxAgeMs = parseDuration('--max-age', this.maxAge);
    if (this.user !== undefined) {
      const code = await handOverToUser(this.user);
      if (code !== null) return code;
    }
    if (this.check) {
      parseTemplate(this.uriTemplate);
      const archiveDir = await checkArchiveDir(this.archiveDir);
      const now = Date.now();
      const splayMs = splayDelayMs(this.hostname ?? os.hostname(), parseInteger('--splay', this.splay, 0, 86_400));
      const result = checkBacklog(await uploadBacklog(archiveDir), { now, maxAgeMs, splayMs, waitingFor: 'waiting for upload' });
      process.stdout.write(result.text);
      return result.code;
    }
    return this.withTools({ progressLabel: this.once && !this.dryRun ? 'uploaded' : undefined, report: !this.dryRun, directory: this.archiveDir }, (tools) => this.upload(tools));
  }

  private async upload({ log, reporter, progress }: RunTools): Promise<number> {
    routeWarnings((warning) => (isNodeVersionWarning(warning) ? log.debug(oneLine(warning)) : log.warn(oneLine(warning))));
    // Everything the user can get wrong on the command line is found here, before any network call.
    const template = parseTemplate(this.uriTemplate);
    if (this.sse !== undefined && this.sse !== 'AES256' && this.sse !== 'aws:kms') throw new UsageError(`--sse takes AES256 or aws:kms, not '${this.sse}'`);
    if (this.sseKmsKeyId !== undefined && this.sse !== 'aws:kms') throw new UsageError('--sse-kms-key-id needs --sse aws:kms');
    if (this.storageClass !== undefined && !/^[A-Z_]+$/.test(this.storageClass)) throw new UsageError(`--storage-class takes a class such as STANDARD_IA, not '${this.storageClass}'`);
    const multipartThreshold = parseSize('--multipart-threshold', this.multipartThreshold);
    if (multipartThreshold < MIN_PART_SIZE || multipartThreshold > MAX_PUT_SIZE)
      throw new UsageError(`--multipart-threshold must be from 5M (S3's smallest part) to 5G (S3's largest single PUT), not '${this.multipartThreshold}'`);
    const partSize = parseSize('--part-size', this.partSize);
    if (partSize < MIN_PART_SIZE || partSize > MAX_PUT_SIZE) throw new UsageError(`--part-size must be from 5M to 5G (S3's part sizes), not '${this.partSize}'`);
    const conditionalWrites = this.conditionalWrites as ConditionalWritesMode;
    if (!CONDITIONAL_WRITES_MODES.includes(conditionalWrites)) throw new UsageError(`--conditional-writes takes auto, yes, put-only or no, not '${this.conditionalWrites}'`);
    if (this.endpointUrl !== undefined && !/^https?:\/\/[^/]+/.test(this.endpointUrl)) throw new UsageError(`--endpoint-url takes an http:// or https:// URL, not '${this.endpointUrl}'`);
    return runUpload({
      archiveDir: this.archiveDir,
      template,
      once: this.once || this.dryRun,
      dryRun: this.dryRun,
      region: this.region,
      endpointUrl: this.endpointUrl,
      forcePathStyle: this.forcePathStyle,
      storageClass: this.storageClass,
      sse: this.sse,
      sseKmsKeyId: this.sseKmsKeyId,
      conditionalWrites,
      jobs: parseInteger('--jobs', this.jobs, 1, 64),
      intervalMs: parseDuration('--interval', this.interval, { minMs: 1000, maxMs: 86_400_000 }),
      multipartThreshold,
      partSize,
      deleteUploadedAfterMs: this.deleteUploadedAfter === undefined ? undefined : parseDuration('--delete-uploaded-after', this.deleteUploadedAfter),
      env: process.env,
      log,
      reporter,
      progress,
      metricsFile: this.metricsFile === undefined ? undefined : path.resolve(this.metricsFile),
      permissionRule: this.user === undefined && !this.insecurePermissions,
      splaySeconds: parseInteger('--splay', this.splay, 0, 86_400),
      retryMode: this.retryMode,
      ...(this.hostname !== undefined ? { hostname: this.hostname } : {}),
    });
  }
}

// No top-level await: the self-contained executable bundles this module as CommonJS.
void runProgram({ binaryName: 'logjam-upload', binaryVersion: readVersion(import.meta.url), commands: [UploadCommand] });
