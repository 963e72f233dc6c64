#!/usr/bin/env node
// logjam-upload: ship ARCHIVE_DIR to S3, exactly once, under keys from a template.
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'clipanion';
import { checkBacklog, handOverToUser, LogjamCommand, oneLine, parseDuration, parseInteger, parseSize, readVersion, runProgram, splayDelayMs, UsageError, type RunTools } from '@logjam/core';
import * as t from 'typanion';
import { uploadBacklog } from './monitor.js';
import { runAuditCommand } from './audit-cli.js';
import { DEFAULT_JOBS } from './defaults.js';
import { checkArchiveDir, runUpload } from './run.js';
import { chooseEndpoint, RETRY_MODES, type RetryMode } from './s3.js';
import { describeProxyRoute, readProxySettings } from './proxy.js';
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
      Uploads every archive in ARCHIVE_DIR (the \`archive\` folder logjam-compress fills) that has no marker in ARCHIVE_DIR/.uploaded/ to the S3 key rendered from URI_TEMPLATE, then writes its marker. URI_TEMPLATE is s3://BUCKET/KEY-TEMPLATE with the fields {prefix} {year} {month} {day} {filename} (mandatory), {hour} {minute} {suffix} {extension} {hostname}, rendered as the Python logjam rendered them. An object already at the key with the same content is only marked; a different one is never overwritten (the file goes to a conflict key beside it). With --once, one pass, then exit 0 (done), 1 (a file failed; retried next run) or 2 (something to fix: one line says what and how). Without it, a service that reacts to new archives and rescans every --interval. --check is a Nagios plugin (0 OK, 1 WARNING, 3 UNKNOWN); --dry-run prints FILE -> URI and touches nothing; --audit checks every archive marked uploaded against S3 (size, ETag) and exits 0 / 1, writing nothing.

      Every flag can be set in the environment as LOGJAM_<FLAG> (LOGJAM_JOBS=8, LOGJAM_SPLAY=10m), but --check, --dry-run and --audit: the command line alone sets them. Durations are seconds or 90s, 30m, 2h, 7d; sizes 8M, 1G (binary: 1M is 1 MiB, 1,048,576 bytes). Credentials come from the standard AWS chain; HTTPS_PROXY, HTTP_PROXY, NO_PROXY and AWS_CA_BUNDLE are honoured. More in logjam's docs/: logjam-upload.md (the template, exactly once, the store profile, --audit, IAM, S3-compatible stores), monitoring.md, fleets.md (--splay, throttling), security.md (links, owners, --user), install.md (behind a proxy).
    `,
    examples: [
      ['Upload once, from cron', `$0 --once /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`],
      ['Run as a service', `$0 /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`],
      ['Show what would go where, touching nothing', `$0 --dry-run /var/log/hourly/archive/ 's3://my-log-bucket/{hostname}/{prefix}/{year}/{month}/{day}/{filename}'`],
      ['Nagios / Sensu check: has anything waited for upload more than 2 hours?', `$0 --check --max-age 2h /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`],
      ['Prove that every archive marked uploaded is in S3, intact (daily from cron)', `$0 --audit --splay 3600 /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`],
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
  interval = Option.String('--interval', '60', { description: 'Service mode: time between rescans (seconds, or 30s, 5m), besides reacting to new files (default: 60)' });
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
    description:
      'Print the archives not yet uploaded; exit 0 if the oldest is younger than --max-age, 1 if older, 3 for a usage or configuration error (a Nagios / Sensu check); no network, no lock (default: off)',
  });
  maxAge = Option.String('--max-age', '2h', { description: 'With --check: the age of the oldest archive not yet uploaded beyond which the check fails, such as 90m, 2h, 1d or seconds (default: 2h)' });
  splay = Option.String('--splay', '0', {
    description:
      "Before a --once pass, and before reacting to new archives, wait this host's own delay from 0 to DURATION (600, 10m; at most 1d), derived from the host name (the same every run), so that a fleet does not reach S3 in the same second; --check allows for it (default: 0, no wait)",
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
      "Do all the work as this user (and group; default: the user's own), in a child process that becomes that user as su does (its supplementary groups kept; HOME stays root's, so that its dotfiles are never read; the environment reduced to what the upload needs, which that user can read): root then never opens, writes or deletes a file in ARCHIVE_DIR itself; for an ARCHIVE_DIR other users can write (default: the user running logjam-upload)",
  });
  insecurePermissions = Option.Boolean('--insecure-permissions', false, {
    description:
      "As root without --user, work in an ARCHIVE_DIR (or its .uploaded/) that another user owns, or that a group other than root's or every user can write, accepting that they could try to make root write elsewhere (default: refuse it, as logrotate does)",
  });
  // --audit (issue 29): audit-cli.ts and audit*.ts.
  audit = Option.Boolean('--audit', false, {
    description:
      'Check that every archive marked uploaded is in S3, intact (size and ETag: the MD5, or the multipart ETag at its part size); one line per problem, then a summary; exit 0 all intact, 1 not; no lock, writes nothing but --metrics-file (default: off)',
  });
  archiveDir = Option.String({ name: 'ARCHIVE_DIR' });
  uriTemplate = Option.String({ name: 'URI_TEMPLATE' });

  async run(): Promise<number> {
    const maxAgeMs = parseDuration('--max-age', this.maxAge);
    if (this.user !== undefined) {
      // The child needs the AWS settings (and a proxy's) to reach the store.
      const code = await handOverToUser(this.user, /^(AWS_\w+|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/);
      if (code !== null) return code;
    }
    if (this.audit) return this.withTools({ report: false, directory: this.archiveDir }, ({ log }) => runAuditCommand(this, log));
    if (this.check) {
      this.sayEnvWarnings();
      parseTemplate(this.uriTemplate);
      const archiveDir = await checkArchiveDir(this.archiveDir);
      const now = Date.now();
      const splayMs = splayDelayMs(this.hostname ?? os.hostname(), this.splaySeconds());
      const result = checkBacklog(await uploadBacklog(archiveDir), { now, maxAgeMs, splayMs, waitingFor: 'waiting for upload' });
      const proxy = describeProxyRoute(readProxySettings(process.env), chooseEndpoint(this.endpointUrl, process.env));
      process.stdout.write(result.text + (proxy ? `${proxy}\n` : ''));
      return result.code;
    }
    return this.withTools({ progressLabel: this.once && !this.dryRun ? 'uploaded' : undefined, report: !this.dryRun, directory: this.archiveDir }, (tools) => this.upload(tools));
  }

  /** --splay's window, a duration as every other (10m, 3600). */
  private splaySeconds(): number {
    return parseDuration('--splay', this.splay, { maxMs: 86_400_000 }) / 1000;
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
      conditionalWritesMode: conditionalWrites,
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
      splaySeconds: this.splaySeconds(),
      retryMode: this.retryMode,
      ...(this.hostname !== undefined ? { hostname: this.hostname } : {}),
    });
  }
}

// No top-level await: the self-contained executable bundles this module as CommonJS.
void runProgram({
  binaryName: 'logjam-upload',
  binaryVersion: readVersion(import.meta.url),
  commands: [UploadCommand],
  help: {
    valueNames: {
      '--region': 'REGION',
      '--endpoint-url': 'URL',
      '--storage-class': 'CLASS',
      '--sse': 'AES256|aws:kms',
      '--sse-kms-key-id': 'KEY',
      '--conditional-writes': 'MODE',
      '--jobs': 'N',
      '--interval': 'DURATION',
      '--multipart-threshold': 'SIZE',
      '--part-size': 'SIZE',
      '--delete-uploaded-after': 'DURATION',
      '--max-age': 'DURATION',
      '--splay': 'DURATION',
      '--hostname': 'NAME',
      '--retry-mode': 'MODE',
      '--metrics-file': 'PATH',
      '--user': 'USER[:GROUP]',
    },
    usage: [
      '[--once] [--endpoint-url URL] [--jobs N] [--splay DURATION] [--delete-uploaded-after DURATION] [--metrics-file PATH] [--log-level LEVEL] ARCHIVE_DIR URI_TEMPLATE',
      '--dry-run ARCHIVE_DIR URI_TEMPLATE',
      '--check [--max-age DURATION] [--splay DURATION] ARCHIVE_DIR URI_TEMPLATE',
      '--audit [--endpoint-url URL] [--part-size SIZE] [--metrics-file PATH] ARCHIVE_DIR URI_TEMPLATE',
    ],
  },
});
