// What a run learns about the store before and between passes: the client
// (connect.ts: region, endpoint, checked credentials), whether the bucket (or each bucket
// named by the template) is usable, and what the store does with If-None-Match,
// remembered between runs in the store profile (profile.ts).
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, type Logger, type LogName } from '@logjam/core';
import {
  learnConditionalWrites,
  settingsFlags,
  type ConditionalWrites,
  type ConditionalWritesMode,
  type ObjectSettings,
  type ProbeReport,
} from './conditional.js';
import type { PassSummary } from './context.js';
import { freshProbe, isFresh, noteRefused, profileKey, type StoreFacts, type StoreProfile } from './profile.js';
import { checkBucket, describeError, MissingBucketError } from './s3.js';
import { fieldValues, fixedBucket, fixedFolder, renderBucket, type Template } from './template.js';

export { connect, type ConnectOptions } from './connect.js';

/** What the store checks go by: the bucket (template), the object settings and what --conditional-writes said. */
export interface StoreOptions extends ObjectSettings {
  template: Template;
  /** --conditional-writes, as given: probe the store (auto), or take its answer as given. */
  conditionalWritesMode: ConditionalWritesMode;
  /** --once: a store unreachable at start ends the run; a service waits it out. */
  once: boolean;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

/**
 * What the store honours, as a pass is given it: the writes with If-None-Match
 * that it honours, and whether it allows a listing. The pass lowers either when
 * the store shows it does less (a 501, a refused listing); the run keeps that.
 */
export interface StoreCapabilities {
  conditionalWrites: ConditionalWrites;
  listing: { supported: boolean };
}

/** Whether the bucket is usable: checked at start, and again before a pass after a failure. */
export class BucketCheck {
  checked = false;
  /** Buckets whose HeadBucket was refused: said once a pass has shown that this is no configuration error. */
  private readonly limited = new Set<string>();

  constructor(
    private readonly options: StoreOptions,
    private readonly client: S3Client,
    private readonly signal: AbortSignal,
    private readonly where: { archiveDir: string; hostname: string; endpoint: string | undefined },
    private readonly profile: StoreProfile,
  ) {}

  private keyOf(bucket: string): string {
    return profileKey(this.where.endpoint, bucket, settingsFlags(this.options));
  }

  /** The bucket, or with fields in its name, the buckets of the files pending (the pass's listing, awaited only then). */
  private async buckets(pending: LogName[] | Promise<LogName[]>): Promise<string[]> {
    const fixed = fixedBucket(this.options.template);
    if (fixed !== undefined) return [fixed];
    return bucketsOf(this.options.template, await pending, this.where.hostname);
  }

  async check(pending: LogName[] | Promise<LogName[]>): Promise<void> {
    const { env } = this.options;
    const all = await this.buckets(pending);
    for (const bucket of all) {
      try {
        const facts = await this.profile.facts(this.keyOf(bucket));
        const access = await checkBucket(this.client, bucket, env, this.signal, facts.refused.HeadBucket !== undefined);
        if (access === 'limited') this.limited.add(bucket);
        // Allowed now (the policy changed): a later refusal is news again.
        else if (facts.refused.HeadBucket !== undefined) {
          delete facts.refused.HeadBucket;
          this.profile.touch();
        }
      } catch (error) {
        // One missing bucket among several fails only its own files (in the pass); when it is the only one, nothing can be done.
        if (!(error instanceof MissingBucketError) || all.length === 1) throw error;
        this.options.log.error(`${error.message}: its files fail until it exists`, { bucket });
      }
    }
    this.checked = true;
  }

  /**
   * After a pass: a refused HeadBucket is worth a warning once the uploads went
   * on without a configuration error, and once only: the profile remembers it.
   */
  async afterPass(summary: PassSummary, now: number): Promise<void> {
    if (summary.fatal) return;
    for (const bucket of this.limited) {
      const facts = await this.profile.facts(this.keyOf(bucket));
      const news = noteRefused(facts, 'HeadBucket', now);
      if (news) this.profile.touch();
      this.options.log[news ? 'warn' : 'debug']('HeadBucket refused (no s3:ListBucket?); the uploads went on', {
        bucket,
      });
    }
    this.limited.clear();
  }

  /** Start-up check: configuration errors are exit 2 in both modes; a service waits out an unreachable store. */
  async atStart(endpoint: string | undefined, pending: Promise<LogName[]>): Promise<void> {
    const { template, log } = this.options;
    try {
      await this.check(pending);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const bucket = fixedBucket(template) ?? template.source;
      if (this.options.once)
        throw new Error(`cannot reach S3 to check bucket '${bucket}' (${endpoint ?? 'AWS'}): ${describeError(error)}`);
      log.warn('cannot reach the bucket yet; retrying every interval', { bucket, error: describeError(error) });
    }
  }
}

/**
 * What the store does with If-None-Match, and whether it takes the object
 * settings (conditional.ts): from the profile while it is fresh, else probed,
 * when a pass first has something to upload; again after RELEARN_AFTER_MS in
 * a service, or when a pass found the store doing less than remembered.
 */
export class StoreWrites {
  /** What the store honours as far as this run knows: learned, then lowered by what the passes saw. */
  private known: StoreCapabilities = {
    conditionalWrites: { put: false, complete: false },
    listing: { supported: true },
  };
  /** The profile entry of the store learned, when, and the writes then given to the passes. */
  private learned: { facts: StoreFacts; at: number; used: ConditionalWrites } | undefined;

  constructor(
    private readonly options: StoreOptions,
    private readonly client: S3Client,
    private readonly where: { endpoint: string | undefined; archiveDir: string; hostname: string },
    private readonly profile: StoreProfile,
    private readonly signal: AbortSignal,
  ) {}

  /** What a pass with nothing to learn from is given: a copy of what is known. */
  current(): StoreCapabilities {
    return { conditionalWrites: { ...this.known.conditionalWrites }, listing: { ...this.known.listing } };
  }

  /** For a pass with pending files: learned unless lately, in the bucket, or with fields in its name, in the first valid bucket of `pending` (the store answers alike for all). */
  async learn(pending: LogName[], now = Date.now()): Promise<StoreCapabilities> {
    if (!this.learned || !freshProbe({ probedAt: this.learned.at, refused: {} }, now)) await this.probe(pending, now);
    return this.current();
  }

  private async probe(pending: LogName[], now: number): Promise<void> {
    const { options, where } = this;
    const bucket = fixedBucket(options.template) ?? bucketsOf(options.template, pending, where.hostname)[0];
    // No valid bucket name among them: each file fails on its own, and a later pass learns.
    if (bucket === undefined) return;
    const facts = await this.profile.facts(profileKey(where.endpoint, bucket, settingsFlags(options)));
    // A listing refused lately costs a refused request every run: HEAD per file at once (tried again a week on).
    if (isFresh(facts.refused.ListBucket, now)) this.known.listing.supported = false;
    const learned = await learnConditionalWrites({
      client: this.client,
      bucket,
      endpoint: where.endpoint,
      mode: options.conditionalWritesMode,
      probePrefix: fixedFolder(options.template),
      prober: { hostname: where.hostname, archiveDir: where.archiveDir },
      known: freshProbe(facts, now),
      storageClass: options.storageClass,
      sse: options.sse,
      sseKmsKeyId: options.sseKmsKeyId,
      log: options.log,
      signal: this.signal,
    });
    if (learned.probe) this.remember(facts, learned.probe, { bucket }, now);
    this.known.conditionalWrites = { ...learned.writes };
    this.learned = { facts, at: now, used: { ...learned.writes } };
    await this.profile.save();
  }

  private remember(facts: StoreFacts, probe: ProbeReport, fields: { bucket: string }, now: number): void {
    if (probe.deleteRefused) {
      const news = noteRefused(facts, 'DeleteObject', now);
      this.options.log[news ? 'warn' : 'debug'](
        `cannot delete the probe object ${probe.key} (${probe.deleteRefused}: no s3:DeleteObject?); it stays, and later probes reuse that key`,
        fields,
      );
    } else if (probe.found !== null) delete facts.refused.DeleteObject;
    // A probe that could not tell is asked again next run.
    if (probe.found !== null) {
      facts.probedAt = now;
      if (probe.found) facts.writes = probe.found;
    }
    this.profile.touch();
  }

  /**
   * After a pass: what it showed the store does (`seen`, the capabilities it
   * was given), kept for the next passes and remembered. A conditional write
   * answered 501 (the store changed) cleared them; a listing refused is said
   * at WARN the first time only.
   */
  async afterPass(seen: StoreCapabilities, now = Date.now()): Promise<void> {
    this.known.conditionalWrites = { ...seen.conditionalWrites };
    if (!seen.listing.supported) this.known.listing.supported = false;
    const { facts, used } = this.learned ?? {};
    const writes = seen.conditionalWrites;
    if (facts && used && (used.put !== writes.put || used.complete !== writes.complete)) {
      facts.writes = { ...writes };
      facts.probedAt = now;
      Object.assign(used, writes);
      this.profile.touch();
    }
    if (facts && !this.known.listing.supported && noteRefused(facts, 'ListBucket', now)) {
      this.options.log.warn('listing refused (no s3:ListBucket?); each file is checked with HEAD instead', {
        bucket: fixedBucket(this.options.template),
      });
      this.profile.touch();
    }
    await this.profile.save();
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
