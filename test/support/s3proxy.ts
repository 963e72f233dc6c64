// An HTTP proxy to put in front of s3rver in tests, for two jobs:
//
// 1. Make s3rver behave like S3 where it matters for crash tests. s3rver
//    writes an object's file while the body streams in, so a client killed
//    mid-upload leaves a truncated object at the key (even over an existing
//    one); S3 never does: an object appears whole or not at all. And s3rver
//    ignores `If-None-Match: *`. The proxy forwards a PUT only once its whole
//    body has arrived, and answers a conditional write on an existing key with
//    412 Precondition Failed, as S3 does.
// 2. Inject faults at configurable rates: 500 InternalError, 503 SlowDown,
//    connection resets, responses stalled past the client's timeout,
//    truncated response bodies, and "lost responses" (the request reached the
//    server, the answer never reached the client).
//
// Every request and every fault is counted, so a test can assert that retries
// were bounded (no hot loop).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind = 'error500' | 'slowDown' | 'reset' | 'stall' | 'truncate' | 'lostResponse';

export interface FaultRates {
  /** Answer 500 InternalError without forwarding. */
  error500?: number;
  /** Answer 503 SlowDown without forwarding. */
  slowDown?: number;
  /** Destroy the client's connection without forwarding. */
  reset?: number;
  /** Forward, then hold the answer for `stallMs` before destroying the connection. */
  stall?: number;
  /** Forward, then send the status and headers with only half of the body. */
  truncate?: number;
  /** Forward (the object lands), then destroy the connection instead of answering. */
  lostResponse?: number;
}

export interface S3ProxyOptions {
  /** s3rver's endpoint, e.g. http://127.0.0.1:4568 */
  upstream: string;
  /** Honour `If-None-Match: *` on PUT and on CompleteMultipartUpload (default true). */
  conditionalWrites?: boolean;
  faults?: FaultRates;
  /** Which requests may be faulted (default: all). */
  faultFilter?: (req: IncomingMessage) => boolean;
  stallMs?: number;
  /** Seed of the fault dice, so a failing run can be replayed. */
  seed?: number;
}

export interface S3ProxyStats {
  requests: number;
  byMethod: Record<string, number>;
  faults: Record<FaultKind, number>;
  preconditionFailed: number;
  /** PUT bodies that never arrived whole and were dropped, not forwarded. */
  abortedPuts: number;
}

export interface S3Proxy {
  endpoint: string;
  stats: S3ProxyStats;
  setFaults(faults: FaultRates): void;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAULT_ORDER: FaultKind[] = ['error500', 'slowDown', 'reset', 'stall', 'truncate', 'lostResponse'];

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startS3Proxy(options: S3ProxyOptions): Promise<S3Proxy> {
  const upstream = new URL(options.upstream);
  const agent = new http.Agent({ keepAlive: true });
  const random = prng(options.seed ?? 1);
  let faults: FaultRates = options.faults ?? {};
  const stats: S3ProxyStats = {
    requests: 0,
    byMethod: {},
    faults: { error500: 0, slowDown: 0, reset: 0, stall: 0, truncate: 0, lostResponse: 0 },
    preconditionFailed: 0,
    abortedPuts: 0,
  };
  const sockets = new Set<import('node:net').Socket>();

  const pickFault = (req: IncomingMessage): FaultKind | null => {
    if (options.faultFilter && !options.faultFilter(req)) return null;
    for (const kind of FAULT_ORDER) {
      const rate = faults[kind] ?? 0;
      if (rate > 0 && random() < rate) return kind;
    }
    return null;
  };

  /** Sends a request upstream and resolves with the whole answer. */
  const forward = (method: string, url: string, headers: http.IncomingHttpHeaders, body?: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method, path: url, headers: { ...headers, host: upstream.host }, agent },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  /** Whether an object exists at this path (an anonymous HEAD: s3rver lets it through). */
  const objectExists = async (pathname: string): Promise<boolean> => (await forward('HEAD', pathname, {})).status === 200;

  const server = http.createServer(async (req, res) => {
    stats.requests += 1;
    stats.byMethod[req.method ?? '?'] = (stats.byMethod[req.method ?? '?'] ?? 0) + 1;
    const fault = pickFault(req);
    if (fault) stats.faults[fault] += 1;

    // Read the whole body first: a PUT that never arrives whole is never forwarded.
    const chunks: Buffer[] = [];
    let complete = false;
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve) => {
      req.on('end', () => {
        complete = true;
        resolve();
      });
      req.on('close', () => resolve());
      req.on('error', () => resolve());
    });
    if (!complete) {
      if (req.method === 'PUT') stats.abortedPuts += 1;
      res.destroy();
      return;
    }
    const body = Buffer.concat(chunks);

    try {
      if (fault === 'error500') return s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      if (fault === 'slowDown') return s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
      if (fault === 'reset') return void req.socket.destroy();

      const url = new URL(req.url ?? '/', 'http://proxy');
      const conditional = req.headers['if-none-match'] === '*';
      const isWrite = req.method === 'PUT' && !url.searchParams.has('partNumber');
      const isComplete = req.method === 'POST' && url.searchParams.has('uploadId');
      if ((options.conditionalWrites ?? true) && conditional && (isWrite || isComplete) && (await objectExists(url.pathname))) {
        stats.preconditionFailed += 1;
        return s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      const answer = await forward(req.method ?? 'GET', req.url ?? '/', req.headers, body.length ? body : undefined);
      if (fault === 'lostResponse') return void req.socket.destroy();
      if (fault === 'stall') {
        setTimeout(() => req.socket.destroy(), options.stallMs ?? 10_000).unref();
        return;
      }
      const headers = { ...answer.headers };
      delete headers['transfer-encoding'];
      delete headers.connection;
      headers['content-length'] = String(answer.body.length);
      res.writeHead(answer.status, headers);
      if (fault === 'truncate' && answer.body.length > 1) {
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
        return void setImmediate(() => req.socket.destroy());
      }
      res.end(req.method === 'HEAD' ? undefined : answer.body);
    } catch (error) {
      s3Error(res, 502, 'BadGateway', String(error));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    setFaults(next) {
      faults = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
