// --audit from the command line: the flags it shares with an upload (parsed
// where they are declared, cli.ts) into runAudit's options.
import { UsageError, type LogFormat, type Logger } from '@logjam/core';
import { runAudit } from './audit.js';
import type { RetryMode } from './s3.js';
import type { Template } from './template.js';

/** The UploadCommand's flags that --audit reads. */
export interface AuditFlags {
  archiveDir: string;
  template: Template;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  forcePathStyle: boolean;
  jobs: number;
  multipartThreshold: number;
  partSize: number;
  hostname?: string | undefined;
  metricsFile?: string | undefined;
  splayMs: number;
  retryMode: RetryMode;
  logFormat: LogFormat;
  dryRun: boolean;
  check: boolean;
  deleteUploadedAfterMs?: number | undefined;
}

export function runAuditCommand(flags: AuditFlags, log: Logger): Promise<number> {
  // An audit writes nothing: the flags that make an upload write or check something else have no place here.
  for (const [given, flag] of [
    [flags.dryRun, '--dry-run'],
    [flags.check, '--check'],
    [flags.deleteUploadedAfterMs !== undefined, '--delete-uploaded-after'],
  ] as const) {
    if (given)
      throw new UsageError(`--audit cannot be combined with ${flag}: an audit only reads (run them separately)`);
  }
  return runAudit({
    archiveDir: flags.archiveDir,
    template: flags.template,
    region: flags.region,
    endpointUrl: flags.endpointUrl,
    forcePathStyle: flags.forcePathStyle,
    jobs: flags.jobs,
    multipartThreshold: flags.multipartThreshold,
    partSize: flags.partSize,
    env: process.env,
    log,
    retryMode: flags.retryMode,
    hostname: flags.hostname,
    metricsFile: flags.metricsFile,
    splaySeconds: flags.splayMs / 1000,
    format: flags.logFormat,
  });
}
