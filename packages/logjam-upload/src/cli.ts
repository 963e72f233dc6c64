#!/usr/bin/env node
// logjam-upload: ship ARCHIVE_DIR to S3, exactly once, under keys from a template.
import os from 'node:os';
import { Command, Option } from 'clipanion';
import {
  checkBacklog,
  isChoice,
  isDuration,
  isMatching,
  isSize,
  isWholeNumber,
  LogjamCommand,
  oneLine,
  parsedBy,
  readVersion,
  runProgram,
  splayDelayMs,
  UsageError,
  type RunTools,
} from '@logjam/core';
import { uploadBacklog } from './monitor.js';
import { runAuditCommand } from './audit-cli.js';
import { DEFAULT_JOBS } from './defaults.js';
import { checkArchiveDir, runUpload, type RunOptions } from './run.js';
import { chooseEndpoint, RETRY_MODES } from './s3.js';
import { describeProxyRoute, readProxySettings } from './proxy.js';
import { CONDITIONAL_WRITES_MODES } from './conditional.js';
import { parseTemplate } from './template.js';
import { MAX_PUT_SIZE, MIN_PART_SIZE } from './multipart.js';
import { installWarningFilter, isRoutineWarning, routeWarnings } from './warnings.js';

// Before any SDK client exists: its Node 20 warning must not reach cron's mail.
installWarningFilter();

export class UploadCommand extends LogjamCommand {
  static override paths = [Command.Default];
  static override wording = {
    backlog: 'the archives not yet uploaded',
    folders: 'ARCHIVE_DIR or its .uploaded/',
    childEnvironment:
      "HOME stays root's, so that its dotfiles are never read; the environment reduced to what the upload needs, which that user can read",
    // The child needs the AWS settings (and a proxy's) to reach the store.
    keepEnv: /^(AWS_\w+|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/,
  };

  static override usage = Command.Usage({
    description: 'Upload the archives logjam-compress made to S3, exactly once',
    details: `
      Uploads every archive in ARCHIVE_DIR (the \`archive\` folder logjam-compress fills) that has no marker in ARCHIVE_DIR/.uploaded/ to the key URI_TEMPLATE renders (s3://BUCKET/KEY-TEMPLATE with {prefix} {year} {month} {day} {filename}, and {hour} {minute} {suffix} {extension} {hostname}), then writes its marker; a different object already at the key is never overwritten. With --once, one pass, then exit 0 (done), 1 (a file failed; retried next run) or 2 (something to fix: one line says what); without it, a service. --check is a Nagios plugin (0 OK, 1 WARNING, 3 UNKNOWN), --dry-run prints FILE -> URI, --audit checks what is marked uploaded against S3. Every flag but those three can be set as LOGJAM_<FLAG> (LOGJAM_SPLAY=10m); credentials come from the standard AWS chain. The template, exactly once, the exit codes and the rest: logjam's docs/logjam-upload.md.
    `,
    examples: [
      [
        'Upload once, from cron',
        `$0 --once /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`,
      ],
      ['Run as a service', `$0 /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`],
      [
        'Show what would go where, touching nothing',
        `$0 --dry-run /var/log/hourly/archive/ 's3://my-log-bucket/{hostname}/{prefix}/{year}/{month}/{day}/{filename}'`,
      ],
      [
        'Nagios / Sensu check: has anything waited for upload more than 2 hours?',
        `$0 --check --max-age 2h /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`,
      ],
      [
        'Prove that every archive marked uploaded is in S3, intact (daily from cron)',
        `$0 --audit --splay 3600 /var/log/hourly/archive/ 's3://my-log-bucket/{prefix}/{year}/{month}/{day}/{filename}'`,
      ],
      [
        'Upload to MinIO, removing local archives a week after upload',
        `$0 --once --endpoint-url http://minio:9000 --force-path-style --delete-uploaded-after 7d /var/log/hourly/archive/ 's3://logs/{prefix}/{year}/{month}/{day}/{filename}'`,
      ],
    ],
  });

  once = Option.Boolean('--once', false, {
    description: 'One pass, then exit (for cron); without it, run as a service',
  });
  dryRun = Option.Boolean('--dry-run', false, {
    description: 'Print "FILE -> URI" for each pending file on stdout; no network, nothing written (implies one pass)',
  });
  region = Option.String('--region', {
    description:
      "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, the instance's region, then us-east-1)",
  });
  endpointUrl = Option.String('--endpoint-url', {
    description:
      'S3-compatible endpoint such as http://minio:9000 (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS)',
    validator: isMatching(
      /^https?:\/\/[^/]+/,
      (text) => `--endpoint-url takes an http:// or https:// URL, not '${text}'`,
    ),
  });
  forcePathStyle = Option.Boolean('--force-path-style', false, {
    description: 'Bucket in the path, not the host name (MinIO, Ceph; default: off)',
  });
  storageClass = Option.String('--storage-class', {
    description: "Storage class of the objects, such as STANDARD_IA or GLACIER_IR (default: the bucket's)",
    validator: isMatching(/^[A-Z_]+$/, (text) => `--storage-class takes a class such as STANDARD_IA, not '${text}'`),
  });
  sse = Option.String('--sse', {
    description: "Server-side encryption: AES256 or aws:kms (default: the bucket's)",
    validator: isChoice('--sse', ['AES256', 'aws:kms']),
  });
  sseKmsKeyId = Option.String('--sse-kms-key-id', {
    description: "KMS key for --sse aws:kms (default: the account's aws/s3 key)",
  });
  conditionalWrites = Option.String('--conditional-writes', 'auto', {
    description:
      'Whether the store honours If-None-Match: * on PutObject and CompleteMultipartUpload: auto (probe it; AWS: yes), yes, put-only (PutObject alone, as Ceph RGW 16), no (default: auto)',
    validator: isChoice('--conditional-writes', CONDITIONAL_WRITES_MODES),
  });
  jobs = Option.String('--jobs', String(DEFAULT_JOBS), {
    description: `Files uploaded in parallel (default: ${DEFAULT_JOBS})`,
    validator: isWholeNumber('--jobs', 1, 64),
  });
  intervalMs = Option.String('--interval', '60', {
    description:
      'Service mode: time between rescans (seconds, or 30s, 5m), besides reacting to new files (default: 60)',
    validator: isDuration('--interval', { minMs: 1000, maxMs: 86_400_000 }),
  });
  // 200M, as rclone: below it one PUT streamed from the file is faster than
  // parts (one request, nothing for the store to join), leaves no unfinished
  // upload behind after a kill, and gets a plain MD5 ETag that a listing can check.
  multipartThreshold = Option.String('--multipart-threshold', '200M', {
    description:
      'Files this large or larger go multipart; smaller ones in one PUT streamed from disk (as rclone; 5M to 5G) (default: 200M)',
    validator: isSize('--multipart-threshold', {
      min: MIN_PART_SIZE,
      max: MAX_PUT_SIZE,
      range: "from 5M (S3's smallest part) to 5G (S3's largest single PUT)",
    }),
  });
  partSize = Option.String('--part-size', '8M', {
    description:
      'Size of the parts of a multipart upload, 5M to 5G; parts are streamed from disk, so memory does not grow with it (default: 8M)',
    validator: isSize('--part-size', {
      min: MIN_PART_SIZE,
      max: MAX_PUT_SIZE,
      range: "from 5M to 5G (S3's part sizes)",
    }),
  });
  deleteUploadedAfterMs = Option.String('--delete-uploaded-after', {
    description:
      'Remove local archives (and markers) confirmed uploaded longer ago than this, such as 7d, 12h, 30m or seconds (default: keep them)',
    validator: isDuration('--delete-uploaded-after'),
  });
  splayMs = Option.String('--splay', '0', {
    description:
      "Before a --once pass, and before reacting to new archives, wait this host's own delay from 0 to DURATION (600, 10m; at most 1d), derived from the host name (the same every run), so that a fleet does not reach S3 in the same second; --check allows for it (default: 0, no wait)",
    validator: isDuration('--splay', { maxMs: 86_400_000 }),
  });
  hostname = Option.String('--hostname', {
    description: "The host name for {hostname} in keys and for --splay's delay (default: the system's host name)",
  });
  retryMode = Option.String('--retry-mode', 'standard', {
    description:
      "The AWS SDK's retry mode: standard (up to 5 attempts, exponential backoff with jitter, longer after throttling: 503 SlowDown, 429) or adaptive (the same, plus a client-side rate limit that slows down when throttled) (default: standard)",
    validator: isChoice('--retry-mode', RETRY_MODES),
  });
  // --audit (issue 29): audit-cli.ts and audit*.ts.
  audit = Option.Boolean('--audit', false, {
    description:
      'Check that every archive marked uploaded is in S3, intact (size and ETag: the MD5, or the multipart ETag at its part size); one line per problem, then a summary; exit 0 all intact, 1 not; no lock, writes nothing but --metrics-file (default: off)',
  });
  archiveDir = Option.String({ name: 'ARCHIVE_DIR' });
  template = Option.String({ name: 'URI_TEMPLATE', validator: parsedBy(parseTemplate) });

  async run(): Promise<number> {
    if (this.sseKmsKeyId !== undefined && this.sse !== 'aws:kms')
      throw new UsageError('--sse-kms-key-id needs --sse aws:kms');
    if (this.audit)
      return this.withTools({ report: false, directory: this.archiveDir }, ({ log }) => runAuditCommand(this, log));
    if (this.check) {
      this.sayEnvWarnings();
      return checkUpload(this.archiveDir, {
        maxAgeMs: this.maxAgeMs,
        splaySeconds: this.splayMs / 1000,
        hostname: this.hostname ?? os.hostname(),
        endpointUrl: this.endpointUrl,
      });
    }
    return this.withTools(
      {
        progressLabel: this.once && !this.dryRun ? 'uploaded' : undefined,
        report: !this.dryRun,
        directory: this.archiveDir,
      },
      (tools) => {
        routeWarnings((warning) =>
          isRoutineWarning(warning) ? tools.log.debug(oneLine(warning)) : tools.log.warn(oneLine(warning)),
        );
        return runUpload(this.uploadOptions(tools));
      },
    );
  }

  /** What runUpload is given: the options, parsed where they are declared, and the run's tools. */
  private uploadOptions({ log, reporter, progress }: RunTools): RunOptions {
    return {
      archiveDir: this.archiveDir,
      template: this.template,
      once: this.once || this.dryRun,
      dryRun: this.dryRun,
      region: this.region,
      endpointUrl: this.endpointUrl,
      forcePathStyle: this.forcePathStyle,
      storageClass: this.storageClass,
      sse: this.sse,
      sseKmsKeyId: this.sseKmsKeyId,
      conditionalWritesMode: this.conditionalWrites,
      jobs: this.jobs,
      intervalMs: this.intervalMs,
      multipartThreshold: this.multipartThreshold,
      partSize: this.partSize,
      deleteUploadedAfterMs: this.deleteUploadedAfterMs,
      env: process.env,
      log,
      reporter,
      progress,
      metricsFile: this.metricsFile,
      permissionRule: this.permissionRule,
      splaySeconds: this.splayMs / 1000,
      retryMode: this.retryMode,
      servicePass: this.servicePass,
      ...(this.hostname !== undefined ? { hostname: this.hostname } : {}),
    };
  }
}

/** --check: the archives waiting for upload, said on stdout as a Nagios plugin says it (and the proxy route); its exit code. */
async function checkUpload(
  dir: string,
  options: { maxAgeMs: number; splaySeconds: number; hostname: string; endpointUrl: string | undefined },
): Promise<number> {
  const archiveDir = await checkArchiveDir(dir);
  const now = Date.now();
  const splayMs = splayDelayMs(options.hostname, options.splaySeconds);
  const result = checkBacklog(await uploadBacklog(archiveDir), {
    now,
    maxAgeMs: options.maxAgeMs,
    splayMs,
    waitingFor: 'waiting for upload',
  });
  const proxy = describeProxyRoute(readProxySettings(process.env), chooseEndpoint(options.endpointUrl, process.env));
  process.stdout.write(result.text + (proxy ? `${proxy}\n` : ''));
  return result.code;
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
