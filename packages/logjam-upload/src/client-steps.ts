// The steps logjam-upload adds to the S3 client's middleware stack, each
// after the SDK's retry step, so that they see every attempt: counting the
// requests (RequestCounts, here too), and giving a file streamed from disk a fresh stream per attempt.
import type { S3Client } from '@aws-sdk/client-s3';
import { constants, createReadStream, openSync } from 'node:fs';

/** Attempts per request, retries included (the client's; direct-put.ts numbers its own alike). */
export const MAX_ATTEMPTS = 5;

/** What a run (or a pass) sent: requests by HTTP method, each attempt counted; of them, the SDK's retries; and the answers that were throttling (503 SlowDown, 429). */
export interface RequestTally {
  byMethod: Record<string, number>;
  retries: number;
  throttled: number;
}

/** Counts the requests one client sends; `take` hands over the counts since the last take (one pass's). */
export class RequestCounts {
  private tally: RequestTally = { byMethod: {}, retries: 0, throttled: 0 };

  add(method: string, attempt: number): void {
    this.tally.byMethod[method] = (this.tally.byMethod[method] ?? 0) + 1;
    if (attempt > 1) this.tally.retries += 1;
  }

  throttledAnswer(): void {
    this.tally.throttled += 1;
  }

  take(): RequestTally {
    const tally = this.tally;
    this.tally = { byMethod: {}, retries: 0, throttled: 0 };
    return tally;
  }
}

/** `PUT=3 HEAD=1`, methods in alphabetical order; `none` for none. */
export function formatRequests(byMethod: Record<string, number>): string {
  const entries = Object.entries(byMethod).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length ? entries.map(([method, n]) => `${method}=${n}`).join(' ') : 'none';
}

/** Counts every attempt of every request as it goes out (this step runs after the retry step), and the throttled answers. */
export function countRequests(client: S3Client, counts: RequestCounts): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; headers?: Record<string, string> } | undefined;
      if (!request?.method) return next(args);
      const attempt = Number(/attempt=(\d+)/.exec(request.headers?.['amz-sdk-request'] ?? '')?.[1] ?? 1);
      counts.add(request.method, attempt);
      const result = await next(args);
      const status = (result.response as { statusCode?: number } | undefined)?.statusCode;
      if (status === 503 || status === 429) counts.throttledAnswer();
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'logjamCountRequests', override: true },
  );
}

/**
 * The body of a PutObject that streams a file from disk. The SDK does not
 * retry a request whose body is a stream (it could not send it again), so
 * the request carries this instead, and every attempt, retries included, gets
 * a fresh stream of the file just before it goes out (reopenFileBodies).
 */
export class FileBody {
  constructor(
    /** Bytes for a name that is not UTF-8. */
    readonly path: string | Buffer,
    readonly size: number,
    /** Where in the file the body starts (a multipart upload's part). */
    readonly start = 0,
  ) {}
}

/** Read size when streaming a file to S3. */
export const STREAM_CHUNK = 1024 * 1024;

/** Opens a FileBody for each attempt of a request (this step runs after the retry step), and closes it after. */
export function reopenFileBodies(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown } | undefined;
      if (!request || !(request.body instanceof FileBody)) return next(args);
      const { path: file, size, start } = request.body;
      // Opened as the archive was first (local.ts): never through a link, never blocking on a FIFO.
      const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const stream = createReadStream('', {
        fd,
        highWaterMark: STREAM_CHUNK,
        start,
        end: start + Math.max(0, size - 1),
      });
      try {
        // A copy of the request for this attempt: the retry step keeps the FileBody for the next one.
        const attempt = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as object, request, {
          body: size === 0 ? Buffer.alloc(0) : stream,
        });
        return await next({ ...args, request: attempt });
      } finally {
        stream.destroy();
      }
    },
    { step: 'deserialize', priority: 'low', name: 'logjamReopenFileBodies', override: true },
  );
}
