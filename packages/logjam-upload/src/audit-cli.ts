// --audit from the command line: the flags it shares with an upload, checked
// before any network call, into runAudit's options.
import path from 'node:path';
import { parseInteger, parseSize, UsageError, type LogFormat, type Logger } from '@logjam/core';
import { runAudit } from './audit.js';
import { MAX_PUT_SIZE, MIN_PART_SIZE } from './multipart.js';
import type { RetryMode } from './s3.js';
import { parseTemplate } from './template.js';

/** The UploadCommand's flags that --audit reads. */
export interface AuditFlags {
  archiveDir: string;
  uriTemplate: string;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  forcePathStyle: boolean;
  jobs: string;
  multipartThreshold: string;
  partSize: string;
  hostname?: string | undefined;
  metricsFile?: string | undefined;
  splay: string;
  retryMode: RetryMode;
  logFormat: LogFormat;
  dryRun: boolean;
  check: boolean;
  deleteUploadedAfter?: string | undefined;
}

export function runAuditCommand(flags: AuditFlags, log: Logger): Promise<number> {
  // An audit writes nothing: the flags that make an upload write or check something else have no place here.
  for (const [given, flag] of [
    [flags.dryRun, '--dry-run'],
    [flags.check, '--check'],
    [flags.deleteUploadedAfter !== undefined, '--delete-uploaded-after'],
  ] as const) {
    if (given) throw new UsageError(`--audit cannot be combined with ${flag}: an audit only reads (run them separately)`);
  }
  const template = parseTemplate(flags.uriTemplate);
  const sizeOption = (option: string, text: string) => {
    const size = parseSize(option, text);
    if (size < MIN_PART_SIZE || size > MAX_PUT_SIZE) throw new UsageError(`${option} must be from 5M to 5G, not '${text}'`);
    return size;
  };
  if (flags.endpointUrl !== undefined && !/^https?:\/\/[^/]+/.test(flags.endpointUrl)) throw new UsageError(`--endpoint-url takes an http:// or https:// URL, not '${flags.endpointUrl}'`);
  return runAudit({
    archiveDir: flags.archiveDir,
    template,
    region: flags.region,
    endpointUrl: flags.endpointUrl,
    forcePathStyle: flags.forcePathStyle,
    jobs: parseInteger('--jobs', flags.jobs, 1, 64),
    multipartThreshold: sizeOption('--multipart-threshold', flags.multipartThreshold),
    partSize: sizeOption('--part-size', flags.partSize),
    env: process.env,
    log,
    retryMode: flags.retryMode,
    hostname: flags.hostname,
    metricsFile: flags.metricsFile === undefined ? undefined : path.resolve(flags.metricsFile),
    splaySeconds: parseInteger('--splay', flags.splay, 0, 86_400),
    format: flags.logFormat,
  });
}
