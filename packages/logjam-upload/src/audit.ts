// logjam-upload --audit: proves that every archive marked uploaded is in S3,
// intact. No lock and no write (but --metrics-file): safe beside a running
// upload. One ListObjectsV2 (pages of 1,000) per key folder that holds marked
// archives; HEAD only where a listing cannot settle it (audit-object.ts).
// Memory holds the markers' names and one folder at a time, never a listing
// of the bucket nor a digest per archive.
import os from 'node:os';
import path from 'node:path';
import {
  displayName,
  EXIT_FAILED,
  EXIT_OK,
  onStopSignals,
  parseLogName,
  sleepUnlessAborted,
  splayDelayMs,
  type LogFormat,
  type LogName,
} from '@logjam/core';
import {
  auditArchive,
  headSource,
  type AuditContext,
  type ObjectSource,
  type StoredObject,
  type Verdict,
} from './audit-object.js';
import {
  checkAuditMetricsFile,
  emptyCounts,
  findingLine,
  type AuditCounts,
  problems,
  record,
  summaryLine,
  writeAuditMetrics,
} from './audit-report.js';
import { Digester } from './digest.js';
import { listPending, readMarkers } from './ledger.js';
import { commonPrefix, folderOf, listObjectPages } from './lister.js';
import { checkArchiveDir, type RunOptions } from './run.js';
import { checkBucket, describeError, httpStatus, RequestCounts, s3Code, type RequestTally } from './s3.js';
import { connect } from './store.js';
import { conflictValues, fieldValues, fixedBucket, renderBucket, renderKey, s3Uri } from './template.js';

export type AuditOptions = Pick<
  RunOptions,
  | 'archiveDir'
  | 'template'
  | 'region'
  | 'endpointUrl'
  | 'forcePathStyle'
  | 'jobs'
  | 'multipartThreshold'
  | 'partSize'
  | 'env'
  | 'log'
  | 'retryMode'
> & {
  hostname?: string | undefined;
  metricsFile?: string | undefined;
  splaySeconds: number;
  /** --log-format: the findings and the summary as text, or one JSON object per line. */
  format: LogFormat;
  /** Where the findings go (stdout). */
  write?: (line: string) => void;
};

/** The keys the upload may have used for an archive contain this (template.ts's conflictName). */
const CONFLICT_TAG = '-logjam-upload-conflict-';

/** The marked archives of one key folder: listed together. */
interface Folder {
  bucket: string;
  /** The listing's prefix: common to the archives' keys and their conflict keys. */
  prefix: string;
  names: string[];
}

export async function runAudit(options: AuditOptions): Promise<number> {
  const { log } = options;
  const archiveDir = await checkArchiveDir(options.archiveDir);
  const hostname = options.hostname ?? os.hostname();
  if (options.metricsFile !== undefined) await checkAuditMetricsFile(options.metricsFile);
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const counts = emptyCounts();
  const finding = (kind: string, name: string, uri: string, detail: string) =>
    write(
      findingLine(options.format, { kind, file: path.join(archiveDir, displayName(name)), uri, detail }, new Date()),
    );

  const stop = new AbortController();
  const offSignals = onStopSignals(() => stop.abort());
  const digester = new Digester(stop.signal, (reason) => log.debug('digesting on the main thread', { reason }));
  const requests = new RequestCounts();
  let client: AuditContext['client'] | undefined;
  try {
    if (!(await waitSplay(hostname, options, stop.signal))) return EXIT_FAILED;
    counts.pending = (await listPending(archiveDir)).length;
    const folders = groupMarkers(await readMarkers(archiveDir), options, hostname, (name, detail) => {
      record(counts, { kind: 'unknown', key: '', detail });
      finding('unknown', name, '-', detail);
    });
    const s3 = await connect({ ...options, jobs: options.jobs }, stop.signal, requests);
    client = s3.client;
    const bucket = fixedBucket(options.template);
    // A missing bucket or refused credentials are configuration errors (exit 2), as for an upload.
    if (bucket !== undefined) await checkBucket(s3.client, bucket, options.env, stop.signal);
    const ctx: AuditContext = {
      client: s3.client,
      digester,
      template: options.template,
      hostname,
      multipart: options,
      signal: stop.signal,
      log,
    };
    const listing = { refused: false };
    for (const folderName of [...folders.keys()].sort()) {
      const folder = folders.get(folderName)!;
      folders.delete(folderName);
      for (const { log: archive, uri, verdict } of await auditFolder(ctx, options, { archiveDir, folder, listing })) {
        const kind = record(counts, verdict);
        if (kind)
          finding(kind, archive.name, verdict.key ? s3Uri(folder.bucket, verdict.key) : uri, verdict.detail ?? '');
      }
    }
  } finally {
    offSignals();
    await digester.close();
    client?.destroy();
  }
  await reportAudit(options, counts, requests.take(), write);
  return problems(counts) === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Waits this host's splay (so that a fleet's audits do not start together); false when stopped meanwhile. */
async function waitSplay(hostname: string, options: AuditOptions, signal: AbortSignal): Promise<boolean> {
  const splayMs = splayDelayMs(hostname, options.splaySeconds);
  if (splayMs <= 0) return true;
  options.log.info(`waiting this host's splay of ${Math.round(splayMs / 1000)} s before the audit`, {
    splay: options.splaySeconds,
  });
  return sleepUnlessAborted(splayMs, signal);
}

/** The audit's summary line, its requests in the debug log, and its --metrics-file. */
async function reportAudit(
  options: AuditOptions,
  counts: AuditCounts,
  tally: RequestTally,
  write: (line: string) => void,
): Promise<void> {
  counts.requests = Object.values(tally.byMethod).reduce((sum, n) => sum + n, 0);
  write(summaryLine(options.format, counts, new Date()));
  options.log.debug('audit requests', { ...tally.byMethod, retries: tally.retries });
  if (options.metricsFile !== undefined) await writeAuditMetrics(options.metricsFile, counts, Date.now());
}

/** The markers by key folder; a marker whose key cannot be rendered is a finding of its own. */
function groupMarkers(
  markers: Set<string>,
  options: AuditOptions,
  hostname: string,
  unrenderable: (name: string, detail: string) => void,
): Map<string, Folder> {
  const folders = new Map<string, Folder>();
  let strays = 0;
  for (const name of markers) {
    const archive = parseLogName(name);
    // Not an archive's name: no upload writes such a marker, and no archive stands behind it.
    if (!archive) {
      strays += 1;
      continue;
    }
    let bucket: string;
    let key: string;
    try {
      const values = fieldValues(archive, hostname);
      bucket = renderBucket(options.template, values);
      key = renderKey(options.template, values);
    } catch (error) {
      unrenderable(name, `no key: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const id = folderOf(bucket, key);
    const folder = folders.get(id);
    if (folder) {
      folder.names.push(name);
      folder.prefix = commonPrefix([folder.prefix, key]);
    } else {
      // Its conflict keys share the listing: they differ from the key where the name does.
      const conflicts = [1, 99].map((n) => renderKey(options.template, conflictValues(archive, hostname, n)));
      folders.set(id, { bucket, prefix: commonPrefix([key, ...conflicts]), names: [name] });
    }
  }
  if (strays > 0)
    options.log.info("files in .uploaded/ that are no archive's marker (not log file names) were not audited", {
      files: strays,
    });
  return folders;
}

interface Audited {
  log: LogName;
  uri: string;
  verdict: Verdict;
}

/** One folder: its listing (or HEADs, where listing is refused), then each archive, --jobs at a time, in name order. */
async function auditFolder(
  ctx: AuditContext,
  options: AuditOptions,
  run: { archiveDir: string; folder: Folder; listing: { refused: boolean } },
): Promise<Audited[]> {
  const { folder } = run;
  const archives = folder.names.sort().map((name) => {
    const archive = parseLogName(name)!;
    return { log: archive, key: renderKey(options.template, fieldValues(archive, ctx.hostname)) };
  });
  const keys = new Set(archives.map((a) => a.key));
  const listed = run.listing.refused
    ? null
    : await listFolder(ctx, options, folder, (key) => keys.has(key) || key.includes(CONFLICT_TAG), run.listing);
  const source: ObjectSource = listed
    ? { get: async (key) => listed.get(key) ?? null }
    : headSource(ctx.client, folder.bucket);
  const results: Audited[] = new Array(archives.length);
  let next = 0;
  const worker = async () => {
    while (next < archives.length) {
      const i = next++;
      const { log, key } = archives[i]!;
      results[i] = {
        log,
        uri: s3Uri(folder.bucket, key),
        verdict: await auditArchive(ctx, run.archiveDir, log, { bucket: folder.bucket, key }, source),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.jobs, archives.length) }, worker));
  return results;
}

/**
 * The folder's objects that matter (the archives' keys and conflict copies),
 * page by page: other hosts' objects in a shared folder are not kept. Null
 * when listing is refused (no s3:ListBucket): HEAD per archive from then on.
 */
async function listFolder(
  ctx: AuditContext,
  options: AuditOptions,
  folder: Folder,
  wanted: (key: string) => boolean,
  listing: { refused: boolean },
): Promise<Map<string, StoredObject> | null> {
  const objects = new Map<string, StoredObject>();
  try {
    for await (const { entries } of listObjectPages(ctx.client, folder.bucket, folder.prefix)) {
      for (const entry of entries)
        if (wanted(entry.key)) objects.set(entry.key, { size: entry.size, etag: entry.etag });
    }
    return objects;
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    if (httpStatus(error) === 403 || s3Code(error) === 'AccessDenied') {
      listing.refused = true;
      options.log.info('listing refused (no s3:ListBucket?); asking per archive (HEAD)', {
        prefix: folder.prefix,
        error: describeError(error),
      });
      return null;
    }
    // A bucket named by a field of the template that does not exist: every archive of it is missing.
    if (s3Code(error) === 'NoSuchBucket') {
      options.log.error(`bucket '${folder.bucket}' does not exist`, { bucket: folder.bucket });
      return objects;
    }
    throw error;
  }
}
