// Whether keys are taken, asked of a whole key prefix at once: one
// ListObjectsV2 instead of a HEAD per file.
import type { S3Client } from '@aws-sdk/client-s3';
import type { LogName } from '@logjam/core';
import type { PassContext } from './context.js';
import { sdk } from './sdk.js';
import { describeError, httpStatus, plainEtag, s3Code } from './s3.js';
import { fieldValues, renderBucket, renderKey } from './template.js';

/** Pending files under one key prefix from which one listing replaces their HEADs. */
export const LIST_MIN_FILES = 4;
/** Listing pages (1,000 keys each) allowed per pending file of the prefix: a page costs about what a few HEADs do. */
const FILES_PER_LIST_PAGE = 4;

interface Listing {
  /** Key -> size and ETag (lower case, no quotes). */
  objects: Map<string, { size: number | undefined; etag: string | undefined }>;
  /** When the listing stopped early: keys after this one (in S3's UTF-8 order) are unknown. */
  until?: Buffer;
}

/**
 * One ListObjectsV2 per key prefix ("folder") that holds at least
 * LIST_MIN_FILES pending files, instead of a HEAD per file: a key the listing
 * lacks is free (the PUT is conditional anyway, so a key taken meanwhile
 * still answers 412), and a key listed with this file's size and MD5 as its
 * ETag holds this very file. Anything else (a multipart ETag, an SSE-KMS one,
 * a different object) is left to HEAD, as is everything when the listing is
 * refused (no s3:ListBucket) or fails, and when the store has no conditional writes.
 * A file sent in one PUT to a store that honours If-None-Match asks nothing
 * first (put.ts): the PUT tells. Only once a key of its folder turned out
 * taken (markers lost, say) does the listing answer for the folder's other files.
 */
export class Lister {
  /** By bucket and key folder ("bucket/folder/"). */
  private readonly groups = new Map<
    string,
    { bucket: string; prefix: string; files: number; listing?: Promise<Listing | null>; taken?: boolean }
  >();

  constructor(
    private readonly ctx: PassContext,
    pending: LogName[],
  ) {
    const keys = new Map<string, string[]>();
    for (const log of pending) {
      let bucket: string;
      let key: string;
      try {
        const values = fieldValues(log, ctx.hostname);
        bucket = renderBucket(ctx.template, values);
        key = renderKey(ctx.template, values);
      } catch {
        continue; // the file fails on its own, later
      }
      const folder = folderOf(bucket, key);
      const list = keys.get(folder);
      if (list) list.push(key);
      else keys.set(folder, [key]);
    }
    for (const [folder, list] of keys) {
      if (list.length >= LIST_MIN_FILES)
        this.groups.set(folder, {
          bucket: folder.slice(0, folder.indexOf('/')),
          prefix: commonPrefix(list),
          files: list.length,
        });
    }
  }

  /** Notes that a key turned out taken (a PUT refused with 412): its folder's other files are worth a listing. */
  noteTaken(bucket: string, key: string): void {
    const group = this.groups.get(folderOf(bucket, key));
    if (group) group.taken = true;
  }

  /** Whether a key of this key's folder turned out taken in this pass. */
  folderTaken(bucket: string, key: string): boolean {
    return this.groups.get(folderOf(bucket, key))?.taken === true;
  }

  /** What the listing says of the key: 'missing', 'same', or null when HEAD must tell. */
  async lookup(bucket: string, key: string, local: { size: number; md5: string }): Promise<'missing' | 'same' | null> {
    if (this.ctx.listing?.supported === false) return null;
    const group = this.groups.get(folderOf(bucket, key));
    if (!group || !key.startsWith(group.prefix)) return null;
    group.listing ??= this.list(group.bucket, group.prefix, Math.max(1, Math.ceil(group.files / FILES_PER_LIST_PAGE)));
    const listing = await group.listing;
    if (!listing) return null;
    const entry = listing.objects.get(key);
    if (!entry) {
      if (listing.until && Buffer.compare(Buffer.from(key), listing.until) > 0) return null;
      return this.ctx.conditionalWrites.put ? 'missing' : null;
    }
    return entry.size === local.size && entry.etag === local.md5 ? 'same' : null;
  }

  private async list(bucket: string, prefix: string, maxPages: number): Promise<Listing | null> {
    const objects: Listing['objects'] = new Map();
    try {
      let page = 0;
      for await (const { entries, more } of listObjectPages(this.ctx.client, bucket, prefix)) {
        page += 1;
        for (const entry of entries) objects.set(entry.key, { size: entry.size, etag: entry.etag });
        if (!more) return { objects };
        if (page >= maxPages) return { objects, until: Buffer.from(entries.at(-1)?.key ?? '') };
      }
      return { objects };
    } catch (error) {
      if (httpStatus(error) === 403 || s3Code(error) === 'AccessDenied') {
        if (this.ctx.listing) this.ctx.listing.supported = false;
        this.ctx.log.debug('listing refused (no s3:ListBucket?); asking per file (HEAD)', {
          prefix,
          error: describeError(error),
        });
      } else {
        this.ctx.log.debug('listing failed; asking per file (HEAD)', { prefix, error: describeError(error) });
      }
      return null;
    }
  }
}

/** One object of a listing: its key, size and ETag (lower case, no quotes). */
export interface ListedObject {
  key: string;
  size: number | undefined;
  etag: string | undefined;
}

/** The pages (1,000 keys each) of a ListObjectsV2 of `prefix`, one request per page as it is consumed; `more` when another page follows. */
export async function* listObjectPages(
  client: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<{ entries: ListedObject[]; more: boolean }> {
  let token: string | undefined;
  for (;;) {
    const out = await client.send(
      new (sdk().s3.ListObjectsV2Command)({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const entries: ListedObject[] = [];
    for (const object of out.Contents ?? [])
      if (object.Key !== undefined) entries.push({ key: object.Key, size: object.Size, etag: plainEtag(object.ETag) });
    const more = out.IsTruncated === true && out.NextContinuationToken !== undefined;
    yield { entries, more };
    if (!more) return;
    token = out.NextContinuationToken;
  }
}

/** The group a key's listing belongs to: its bucket and folder, as "bucket/folder/" (a bucket name holds no '/'). */
export function folderOf(bucket: string, key: string): string {
  return `${bucket}/${key.slice(0, key.lastIndexOf('/') + 1)}`;
}

/** The longest common prefix of some keys (in UTF-16 code units, cut before a lone surrogate). */
export function commonPrefix(keys: string[]): string {
  let prefix = keys[0] ?? '';
  for (const key of keys) {
    let i = 0;
    while (i < prefix.length && i < key.length && prefix.charCodeAt(i) === key.charCodeAt(i)) i += 1;
    prefix = prefix.slice(0, i);
  }
  const last = prefix.charCodeAt(prefix.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? prefix.slice(0, -1) : prefix;
}
