// The one HTTP proxy the tests put between logjam-upload and the test S3
// server (s3rver), on 127.0.0.1. It has two jobs.
//
// 1. Make s3rver behave like S3 where a crash or a fault would otherwise
//    test s3rver rather than logjam:
//    - atomic writes: s3rver writes an object's file while the body streams
//      in, so a client killed mid-upload leaves a truncated object at the key
//      (even over an existing one); S3 never does: an object appears whole or
//      not at all. The proxy reads the whole body first and forwards it only
//      once it has all arrived (`atomicBodies`, on by default); a body cut
//      short is dropped, never forwarded.
//    - conditional writes (`conditionalWrites`): s3rver ignores
//      If-None-Match: *; the proxy answers a PUT or CompleteMultipartUpload
//      carrying it with 412 Precondition Failed when the key exists (checked
//      with a HEAD of its own, under a per-key lock so that two racing
//      writers cannot both pass), as S3 does.
//
// 2. Inject faults, either by `rule` (a test decides for each request) or at
//    seeded random `faults` rates (error500, slowDown, reset, stall,
//    truncate, lostResponse; see FaultRates). Every request, fault, retry
//    (the SDK's amz-sdk-request: attempt=N header) and refused write is
//    counted in `stats`, so that a test can assert that retries stay bounded.
//
// 3. Throttle as S3 does (`throttle`): a token bucket per key prefix (the
//    key's folder) admits `perSecond` requests a second (bursts up to
//    `burst`) and answers the rest with 503 SlowDown, the S3 error XML, before
//    anything reaches the store.
//
// Requests are forwarded verbatim, Host header included, so that SigV4
// signatures stay valid (s3rver checks the access key, not the signature).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { figures } from './figures.ts';
import { testClient } from './s3.ts';

/**
 * What to do with one request:
 *   'pass'           forward it
 *   { status, ... }  answer it here with that status (the request never reaches the store)
 *   'drop-response'  forward it, let the store act on it, then cut the connection
 *                    before the client sees the answer (a lost response)
 *   'hang'           never answer (until the client gives up or the proxy closes)
 */
export type FaultAction =
  'pass' | 'drop-response' | 'hang' | { status: number; body?: string; headers?: Record<string, string> };

export type FaultKind = 'error500' | 'slowDown' | 'reset' | 'stall' | 'truncate' | 'lostResponse';

/** Probabilities (0..1) per request, tried in this order; the first that fires is the request's fault. */
export interface FaultRates {
  /** Answer 500 InternalError without forwarding. */
  error500?: number;
  /** Answer 503 SlowDown without forwarding. */
  slowDown?: number;
  /** Destroy the client's connection without forwarding. */
  reset?: number;
  /** Forward (the store acts), then answer nothing for `stallMs` and cut the connection. */
  stall?: number;
  /** Forward, then send the status, the headers and only part of the body, and cut. */
  truncate?: number;
  /** Forward (the store acts), then cut the connection instead of answering. */
  lostResponse?: number;
}

export interface ProxiedRequest {
  method: string;
  url: string;
  /** 'pass', 'drop-response', 'hang', a status such as '412', or a FaultKind. */
  action: string;
  /** The SDK's attempt number for this request (1 for a first try). */
  attempt: number;
  /** The status the client got (from the store or the proxy), once answered. */
  status?: number;
  /** The access key id the request was signed with, if any. */
  accessKeyId?: string | undefined;
  /** Set once the proxy is done with it (answered, cut, or the client went away). */
  done: boolean;
}

export interface ProxyStats {
  requests: number;
  byMethod: Record<string, number>;
  faults: Record<FaultKind, number>;
  /** Requests answered by `rule` with a status, a hang or a dropped response. */
  ruleFaults: number;
  /** Requests that were an SDK retry (attempt >= 2). */
  retried: number;
  preconditionFailed: number;
  /** Bodies that never arrived whole and were dropped, not forwarded. */
  abortedBodies: number;
  /** Requests refused by `throttle` with 503 SlowDown. */
  throttled: number;
  /** When (epoch ms) an object last landed: a PUT (not a part) or a CompleteMultipartUpload answered 200. */
  lastWriteAt?: number;
}

export interface FaultProxy {
  endpoint: string;
  /** Whether it plays S3's If-None-Match: * (the `conditionalWrites` option). */
  playsConditionalWrites: boolean;
  requests: ProxiedRequest[];
  stats: ProxyStats;
  /** Total of injected faults: random, by rule, and throttled. */
  faultCount(): number;
  /** Requests not finished yet (for telling where a kill landed). */
  inFlight(): ProxiedRequest[];
  /** Changes the random fault rates (e.g. to {} once a test wants the faults to stop). */
  setFaults(faults: FaultRates): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The store, e.g. http://127.0.0.1:PORT. */
  target: string;
  /** Decides for each request; `seen` counts earlier requests with the same method and path. */
  rule?: (req: IncomingMessage, seen: number) => FaultAction;
  /** Play S3's If-None-Match: * on PUT and CompleteMultipartUpload (default false). */
  conditionalWrites?: boolean;
  /** Forward a request only once its whole body has arrived (default true). */
  atomicBodies?: boolean;
  /** Random faults, for requests that `rule` passes. */
  faults?: FaultRates;
  /** Faults given, in this order, to the first requests that may get one (then the dice decide): every kind is sure to happen. */
  faultSchedule?: FaultKind[];
  /** Which requests may get a random fault (default: all). */
  faultFilter?: (req: IncomingMessage) => boolean;
  /** How long a 'stall' holds the answer before cutting the connection (default 10 s). */
  stallMs?: number;
  /** Seed of the fault dice, so that a failing run can be replayed. */
  seed?: number;
  /** Awaited before a request is forwarded: a barrier, or a write of the test's own slipped in before it. */
  gate?: (req: IncomingMessage) => Promise<void>;
  /** A delay before a request is forwarded (a slow network), in ms. */
  latencyMs?: (req: IncomingMessage) => number;
  /** S3's per-prefix request rate: beyond it, 503 SlowDown (default: no limit). */
  throttle?: ThrottleSettings;
  /**
   * Hold every request until this many have arrived (or `holdMs` passed), then
   * let them all through at once: clients that start at different times (as
   * processes do on a busy machine) reach the store in the same instant.
   */
  holdFirst?: number;
  holdMs?: number;
  /**
   * A barrier, awaited at two points of every request: 'arriving' (its
   * headers are in, its body maybe not all yet; nothing reached the store)
   * and 'answered' (the store acted on it; the client has not seen the
   * answer). A crash-point test kills the client there, then lets the proxy go on.
   */
  pause?: (request: ProxiedRequest, phase: 'arriving' | 'answered') => Promise<void>;
}

export interface ThrottleSettings {
  /** Requests admitted per second and key prefix. */
  perSecond: number;
  /** Requests a prefix may send at once after a quiet spell (default: perSecond). */
  burst?: number;
}

/** An S3 error response body. */
export function s3ErrorXml(code: string, message = code): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/** The bucket and key of a path-style request, or null for a bucket-level one. */
export function objectOf(url: string): { bucket: string; key: string } | null {
  const [pathname] = url.split('?');
  const parts = pathname!.split('/').filter(Boolean);
  if (parts.length < 2) return null;
  return { bucket: decodeURIComponent(parts[0]!), key: parts.slice(1).map(decodeURIComponent).join('/') };
}

/** mulberry32: a small seeded PRNG, for reproducible fault dice and kill schedules. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The throttle's key prefix of a request: the bucket and the key's folder
 * (everything up to its last '/'); for a listing, the folder of its prefix.
 */
export function throttlePrefix(url: string): string {
  const object = objectOf(url);
  if (object) return `${object.bucket}/${object.key.slice(0, object.key.lastIndexOf('/') + 1)}`;
  const parsed = new URL(url, 'http://front');
  const bucket = decodeURIComponent(parsed.pathname.split('/').filter(Boolean)[0] ?? '');
  const prefix = parsed.searchParams.get('prefix') ?? '';
  return `${bucket}/${prefix.slice(0, prefix.lastIndexOf('/') + 1)}`;
}

/** A token bucket per key prefix: `admit` takes a token, or says no. */
export function prefixBuckets(
  settings: ThrottleSettings,
  now: () => number = Date.now,
): { admit(prefix: string): boolean } {
  const burst = settings.burst ?? settings.perSecond;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    admit(prefix) {
      const t = now();
      const bucket = buckets.get(prefix) ?? { tokens: burst, at: t };
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * settings.perSecond);
      bucket.at = t;
      buckets.set(prefix, bucket);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}

const FAULT_ORDER: FaultKind[] = ['error500', 'slowDown', 'reset', 'stall', 'truncate', 'lostResponse'];

function sendError(
  res: ServerResponse,
  method: string | undefined,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = method === 'HEAD' ? '' : s3ErrorXml(code, message);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
}

/** A request's whole body, or null when it was cut short. */
function readWhole(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('close', () => resolve(req.complete ? Buffer.concat(chunks) : null));
    req.on('error', () => resolve(null));
  });
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const client = testClient(options.target);
  const agent = new http.Agent({ keepAlive: true });
  const random = prng(options.seed ?? 1);
  let rates: FaultRates = options.faults ?? {};
  const atomic = options.atomicBodies ?? true;
  const requests: ProxiedRequest[] = [];
  const seen = new Map<string, number>();
  const sockets = new Set<Socket>();
  const active = new Set<ProxiedRequest>();
  const schedule = [...(options.faultSchedule ?? [])];
  const stats: ProxyStats = {
    requests: 0,
    byMethod: {},
    faults: { error500: 0, slowDown: 0, reset: 0, stall: 0, truncate: 0, lostResponse: 0 },
    ruleFaults: 0,
    retried: 0,
    preconditionFailed: 0,
    abortedBodies: 0,
    throttled: 0,
  };
  const throttle = options.throttle ? prefixBuckets(options.throttle) : undefined;
  let releaseHeld!: () => void;
  const held = options.holdFirst ? new Promise<void>((resolve) => (releaseHeld = resolve)) : undefined;
  const holdTimer = held ? setTimeout(() => releaseHeld(), options.holdMs ?? 120_000) : undefined;

  const keyExists = async (bucket: string, key: string) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  };

  // The write lock of each key: a chain of promises, one link per conditional write.
  const writeLocks = new Map<string, Promise<void>>();
  const withKeyLock = async <T>(id: string, fn: () => Promise<T>): Promise<T> => {
    const before = writeLocks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const chained = before.then(() => new Promise<void>((resolve) => (release = resolve)));
    writeLocks.set(id, chained);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (writeLocks.get(id) === chained) writeLocks.delete(id);
    }
  };

  const pickFault = (req: IncomingMessage): FaultKind | null => {
    if (options.faultFilter && !options.faultFilter(req)) return null;
    if (schedule.length) return schedule.shift()!;
    for (const kind of FAULT_ORDER) {
      const rate = rates[kind] ?? 0;
      if (rate > 0 && random() < rate) return kind;
    }
    return null;
  };

  /** Sends a request to the store; the answer comes back whole (for faults that cut it) or as a stream. */
  const forward = (req: IncomingMessage, body: Buffer | null) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
        resolve,
      );
      upstream.on('error', reject);
      if (body) upstream.end(body);
      else req.pipe(upstream);
    });

  const server = http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    const method = req.method ?? '';
    const id = `${method} ${url.split('?')[0]}`;
    const count = seen.get(id) ?? 0;
    seen.set(id, count + 1);
    const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1);
    stats.requests += 1;
    stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
    if (attempt > 1) stats.retried += 1;
    if (held) {
      if (stats.requests >= options.holdFirst!) releaseHeld();
      await held;
    }

    const action: FaultAction = options.rule?.(req, count) ?? 'pass';
    let fault: FaultKind | null = null;
    const throttled = action === 'pass' && throttle !== undefined && !throttle.admit(throttlePrefix(url));
    if (throttled) stats.throttled += 1;
    else if (action !== 'pass') stats.ruleFaults += 1;
    else {
      fault = pickFault(req);
      if (fault) stats.faults[fault] += 1;
    }
    const record: ProxiedRequest = {
      method,
      url,
      action: throttled ? 'throttled' : (fault ?? (typeof action === 'string' ? action : String(action.status))),
      attempt,
      accessKeyId: accessKeyOf(req),
      done: false,
    };
    requests.push(record);
    active.add(record);
    res.on('close', () => {
      record.done = true;
      active.delete(record);
    });

    // Atomic bodies: read it all before anything reaches the store. Read from
    // the start, even while `pause` holds the request: data left unread when
    // the client dies is lost, and a body forwarded short would hang the store.
    const reading =
      atomic || typeof action === 'object' || throttled || fault === 'error500' || fault === 'slowDown'
        ? readWhole(req)
        : null;
    await options.pause?.(record, 'arriving');
    if (action === 'hang') {
      req.resume();
      return;
    }
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }

    let body: Buffer | null = null;
    if (reading) {
      body = await reading;
      if (!body) {
        stats.abortedBodies += 1;
        res.destroy();
        return;
      }
    }

    try {
      if (typeof action === 'object') {
        const answer = action;
        res.writeHead(answer.status, {
          'content-type': 'application/xml',
          'content-length': method === 'HEAD' ? 0 : Buffer.byteLength(answer.body ?? ''),
          ...answer.headers,
        });
        res.end(method === 'HEAD' ? '' : (answer.body ?? ''));
        return;
      }
      if (fault === 'error500')
        return sendError(res, method, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (fault === 'slowDown' || throttled)
        return sendError(res, method, 503, 'SlowDown', 'Please reduce your request rate.');

      const object = objectOf(url);
      const isWrite = method === 'PUT' && !url.includes('partNumber=');
      const isComplete = method === 'POST' && url.includes('uploadId=');
      const conditional =
        options.conditionalWrites && req.headers['if-none-match'] === '*' && object && (isWrite || isComplete);
      const send = async () => {
        const latency = options.latencyMs?.(req) ?? 0;
        if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
        await options.gate?.(req);
        return forward(req, body);
      };
      // A conditional write checks and writes under its key's lock, so two
      // racing writers of one key cannot both get through: S3 decides atomically.
      const answer = conditional
        ? await withKeyLock(`${object.bucket}/${object.key}`, async () =>
            (await keyExists(object.bucket, object.key)) ? null : send(),
          )
        : await send();
      await options.pause?.(record, 'answered');
      if (answer === null) {
        stats.preconditionFailed += 1;
        record.action = '412';
        record.status = 412;
        return sendError(
          res,
          method,
          412,
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
        );
      }
      if (action === 'drop-response' || fault === 'lostResponse') {
        answer.resume();
        answer.on('end', () => req.socket.destroy());
        return;
      }
      if (fault === 'stall') {
        answer.resume();
        answer.on('end', () => setTimeout(() => req.socket.destroy(), options.stallMs ?? 10_000).unref());
        return;
      }
      if (fault === 'truncate') {
        const chunks: Buffer[] = [];
        for await (const chunk of answer) chunks.push(chunk as Buffer);
        const whole = Buffer.concat(chunks);
        const headers = { ...answer.headers };
        delete headers['transfer-encoding'];
        // Announce the whole body (at least a byte), send half of it, and cut.
        if (method !== 'HEAD') headers['content-length'] = String(Math.max(whole.length, 1));
        res.writeHead(answer.statusCode ?? 502, headers);
        if (method !== 'HEAD') res.write(whole.subarray(0, Math.floor(whole.length / 2)));
        res.flushHeaders();
        setImmediate(() => req.socket.destroy());
        return;
      }
      if (object && (isWrite || isComplete) && answer.statusCode === 200) stats.lastWriteAt = Date.now();
      record.status = answer.statusCode;
      if (answer.statusCode === 412) stats.preconditionFailed += 1;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    } catch (error) {
      if (!res.headersSent) sendError(res, method, 502, 'BadGateway', String(error));
      else req.socket.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const faultCount = () => stats.ruleFaults + stats.throttled + Object.values(stats.faults).reduce((a, b) => a + b, 0);
  let closed = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    playsConditionalWrites: options.conditionalWrites ?? false,
    requests,
    stats,
    faultCount,
    inFlight: () => [...active],
    setFaults(next) {
      rates = next;
      schedule.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!closed) {
          closed = true;
          figures.faults += faultCount();
          figures.retried += stats.retried;
          figures.requests += stats.requests;
        }
        clearTimeout(holdTimer);
        client.destroy();
        agent.destroy();
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
