// What a store honours and what this host may do there, remembered between
// runs so that a probe runs about once a week rather than every run, and a
// refusal is said at WARN once rather than every run. It lives beside the
// markers, in ARCHIVE_DIR/.uploaded/.logjam-store-profile.json: the one folder
// outside LOG_DIR's archives that logjam already owns and holds open (never
// through a link), private to the user that runs it. Deleting it is always
// safe: the next run probes again.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode, writeFileAtomic, type Logger } from '@logjam/core';
import type { ConditionalWrites } from './conditional.js';
import { markerDir } from './ledger.js';
import { describeError } from './s3.js';

export const PROFILE_FILE = '.logjam-store-profile.json';
/** How long a probe's answer is trusted: a store upgraded (or a policy changed) is found within a week. */
export const RELEARN_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

/** What a host may be refused: each said at WARN when first refused, then at debug. */
export type Permission = 'HeadBucket' | 'ListBucket' | 'DeleteObject';

/** What is known of one store, bucket and object settings. */
export interface StoreFacts {
  /** When a probe with these settings last answered (ms since the epoch). */
  probedAt?: number;
  /** What that probe found; absent for a probe of the object settings alone. */
  writes?: ConditionalWrites;
  /** What was refused: when it was last refused (said at WARN only the first time). */
  refused: Partial<Record<Permission, number>>;
}

/** One entry per store, bucket and object settings: another bucket or other settings are another store. */
export function profileKey(endpoint: string | undefined, bucket: string, flags: string): string {
  return [endpoint ?? 'AWS', bucket, flags].filter(Boolean).join(' ');
}

/** Whether a time of the profile is less than RELEARN_AFTER_MS old (and not from the future: a clock set back). */
export function isFresh(at: number | undefined, now: number): boolean {
  return at !== undefined && now >= at && now - at < RELEARN_AFTER_MS;
}

/** What an earlier probe found, while it is fresh. */
export function freshProbe(facts: StoreFacts, now: number): { writes?: ConditionalWrites } | undefined {
  if (!isFresh(facts.probedAt, now)) return undefined;
  return facts.writes ? { writes: { ...facts.writes } } : {};
}

/** Notes a refusal: true when it is news (say it at WARN), false when it was said before (debug). */
export function noteRefused(facts: StoreFacts, permission: Permission, now: number): boolean {
  const news = facts.refused[permission] === undefined;
  facts.refused[permission] = now;
  return news;
}

/** The profile of one archive folder: read once, written atomically when it changed. */
export class StoreProfile {
  private stores: Record<string, StoreFacts> | undefined;
  private changed = false;
  private saveFailed = false;

  constructor(
    /** The archive folder as the run holds it (its markers go through the held .uploaded/). */
    private readonly archiveDir: string,
    private readonly log: Logger,
  ) {}

  private get file(): string {
    return path.join(markerDir(this.archiveDir), PROFILE_FILE);
  }

  /** The entry of a store (an empty one when none is known); change it, then call touch() and save(). */
  async facts(key: string): Promise<StoreFacts> {
    this.stores ??= await readProfile(this.file, this.log);
    return (this.stores[key] ??= { refused: {} });
  }

  touch(): void {
    this.changed = true;
  }

  /** Writes the profile if it changed. A profile that cannot be written only costs a probe next run: said once, at WARN. */
  async save(): Promise<void> {
    if (!this.changed || !this.stores) return;
    try {
      await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, stores: this.stores }, null, 1)}\n`, {
        mode: 0o600,
      });
      this.changed = false;
    } catch (error) {
      if (!this.saveFailed)
        this.log.warn('cannot remember what the store does; the next run probes it again', {
          file: this.file,
          error: describeError(error),
        });
      this.saveFailed = true;
    }
  }
}

/**
 * The profile's entries, or none when there is no profile or it cannot be
 * trusted: not a plain file of this user's that only it can write (a link is
 * never followed), or not one that logjam wrote. Re-learning is always safe.
 */
async function readProfile(file: string, log: Logger): Promise<Record<string, StoreFacts>> {
  let handle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR')
      log.warn('ignoring the store profile; the store is probed again', { file, error: describeError(error) });
    return {};
  }
  try {
    const stat = await handle.stat();
    const uid = process.geteuid?.();
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
      log.warn('ignoring the store profile: not a file that only this user can write; the store is probed again', {
        file,
      });
      return {};
    }
    const parsed = JSON.parse(await handle.readFile('utf8')) as { version?: unknown; stores?: unknown };
    if (parsed.version !== 1 || typeof parsed.stores !== 'object' || parsed.stores === null) return {};
    return sanitize(parsed.stores as Record<string, unknown>);
  } catch (error) {
    log.debug('ignoring an unreadable store profile; the store is probed again', { file, error: describeError(error) });
    return {};
  } finally {
    await handle.close();
  }
}

/** Only the fields and types StoreFacts has. */
function sanitize(stores: Record<string, unknown>): Record<string, StoreFacts> {
  const out = Object.create(null) as Record<string, StoreFacts>;
  const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
  for (const [key, value] of Object.entries(stores)) {
    const entry = (value ?? {}) as {
      probedAt?: unknown;
      writes?: { put?: unknown; complete?: unknown };
      refused?: Record<string, unknown>;
    };
    const facts: StoreFacts = { refused: {} };
    if (isTime(entry.probedAt)) facts.probedAt = entry.probedAt;
    if (entry.writes && typeof entry.writes.put === 'boolean' && typeof entry.writes.complete === 'boolean')
      facts.writes = { put: entry.writes.put, complete: entry.writes.complete };
    for (const permission of ['HeadBucket', 'ListBucket', 'DeleteObject'] as const) {
      const at = entry.refused?.[permission];
      if (isTime(at)) facts.refused[permission] = at;
    }
    out[key] = facts;
  }
  return out;
}
