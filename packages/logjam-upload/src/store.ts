// What a run learns about the store before and between passes: the client
// (region, endpoint, checked credentials), whether the bucket (or each bucket
// named by the template) is usable, and what the store does with If-None-Match.
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, type LogName } from '@logjam/core';
import { learnConditionalWrites, type ConditionalWrites } from './conditional.js';
import type { PassSummary } from './context.js';
import { listPending } from './ledger.js';
import type { RunOptions } from './run.js';
import { checkBucket, checkCredentials, chooseEndpoint, createClient, credentialChain, describeError, MissingBucketError, type RequestCounts, resolveRegion } from './s3.js';
import { loadSdk } from './sdk.js';
import { networkSettings } from './network.js';
import { keepGlobalAgentsDirect } from './proxy-agent.js';
import { fieldValues, fixedBucket, fixedFolder, renderBucket, type Template } from './template.js';

/** Loads the SDK and makes the client: region, endpoint, credentials (checked); the client counts its requests. */
export async function connect(options: RunOptions, signal: AbortSignal, counts: RequestCounts): Promise<{ client: S3Client; endpoint: string | undefined }> {
  const { log } = options;
  if (keepGlobalAgentsDirect(options.env)) log.debug("Node's own proxy support is off for logjam-upload: the instance-metadata service is asked directly");
  await loadSdk();
  const { region, source } = await resolveRegion(options.region, options.env, log);
  const endpoint = chooseEndpoint(options.endpointUrl, options.env);
  log.debug('S3 settings', { region, regionFrom: source, endpoint: endpoint ?? 'AWS', bucket: fixedBucket(options.template) ?? options.template.source });
  const network = await networkSettings(options.env, endpoint, log);
  const credentials = credentialChain(network);
  await checkCredentials(credentials, options.env, log);
  const client = createClient(
    { region, endpoint, forcePathStyle: options.forcePathStyle, maxSockets: options.jobs * 3 + 2, env: options.env, signal, retryMode: options.retryMode, counts, ...network },
    credentials,
  );
  return { client, endpoint };
}

/** Whether the bucket is usable: checked at start, and again before a pass after a failure. */
export class BucketCheck {
  checked = false;
  /** Buckets whose HeadBucket was refused: said once a pass has shown that this is no configuration error. */
  private readonly limited = new Set<string>();

  constructor(
    private readonly options: RunOptions,
    private readonly client: S3Client,
    private readonly signal: AbortSignal,
    private readonly where: { archiveDir: string; hostname: string },
  ) {}

  /** The bucket, or with fields in its name, the buckets of the files pending now. */
  private async buckets(): Promise<string[]> {
    const fixed = fixedBucket(this.options.template);
    if (fixed !== undefined) return [fixed];
    return bucketsOf(this.options.template, await listPending(this.where.archiveDir), this.where.hostname);
  }

  async check(): Promise<void> {
    const { env } = this.options;
    const all = await this.buckets();
    for (const bucket of all) {
      try {
        if ((await checkBucket(this.client, bucket, env, this.signal)) === 'limited') this.limited.add(bucket);
      } catch (error) {
        // One missing bucket among several fails only its own files (in the pass); when it is the only one, nothing can be done.
        if (!(error instanceof MissingBucketError) || all.length === 1) throw error;
        this.options.log.error(`${error.message}: its files fail until it exists`, { bucket });
      }
    }
    this.checked = true;
  }

  /** After a pass: a refused HeadBucket is worth a warning once the uploads went on without a configuration error. */
  afterPass(summary: PassSummary): void {
    if (summary.fatal) return;
    for (const bucket of this.limited) this.options.log.warn('HeadBucket refused (no s3:ListBucket?); the uploads went on', { bucket });
    this.limited.clear();
  }

  /** Start-up check: configuration errors are exit 2 in both modes; a service waits out an unreachable store. */
  async atStart(endpoint: string | undefined): Promise<void> {
    const { template, log } = this.options;
    try {
      await this.check();
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const bucket = fixedBucket(template) ?? template.source;
      if (this.options.once) throw new Error(`cannot reach S3 to check bucket '${bucket}' (${endpoint ?? 'AWS'}): ${describeError(error)}`);
      log.warn('cannot reach the bucket yet; retrying every interval', { bucket, error: describeError(error) });
    }
  }
}

/**
 * What the store does with If-None-Match, and whether it takes the object
 * settings (conditional.ts): learned once, when a pass first has something to upload.
 */
export class StoreWrites {
  readonly found: ConditionalWrites = { put: false, complete: false };
  private learned = false;

  constructor(
    private readonly options: RunOptions,
    private readonly client: S3Client,
    private readonly endpoint: string | undefined,
    private readonly signal: AbortSignal,
  ) {}

  /** Learns it in the bucket, or with fields in its name, in the first valid bucket of the pending files: the store answers alike for all. */
  async learn(pending: LogName[], hostname: string): Promise<void> {
    if (this.learned) return;
    const { options } = this;
    const bucket = fixedBucket(options.template) ?? bucketsOf(options.template, pending, hostname)[0];
    // No valid bucket name among them: each file fails on its own, and a later pass learns.
    if (bucket === undefined) return;
    const found = await learnConditionalWrites({
      client: this.client,
      bucket,
      endpoint: this.endpoint,
      mode: options.conditionalWrites,
      probePrefix: fixedFolder(options.template),
      storageClass: options.storageClass,
      sse: options.sse,
      sseKmsKeyId: options.sseKmsKeyId,
      log: options.log,
      signal: this.signal,
    });
    Object.assign(this.found, found);
    this.learned = true;
  }
}

/** The buckets of some files, by a template with fields in the bucket name: each valid name once, sorted. */
function bucketsOf(template: Template, logs: LogName[], hostname: string): string[] {
  const names = new Set<string>();
  for (const log of logs) {
    try {
      names.add(renderBucket(template, fieldValues(log, hostname)));
    } catch {
      // Not a valid bucket name: that file fails on its own, in the pass.
    }
  }
  return [...names].sort();
}
