// A fault-injecting HTTP proxy in front of a test S3 server (s3rver), on
// 127.0.0.1. Requests pass through verbatim (the Host header too, so SigV4
// signatures stay valid for a store that checks them; s3rver checks only the
// access key), unless `rule` says otherwise for a request:
//   'pass'           forward it
//   { status, ... }  answer it here with that status (the request never reaches the store)
//   'drop-response'  forward it, let the store act on it, then cut the connection
//                    before the client sees the answer (a lost response)
//   'hang'           never answer (until the client gives up or the proxy closes)
// With `conditionalWrites`, it also plays S3's If-None-Match: * on PUT and
// POST (complete multipart), answering 412 when the key exists — s3rver
// ignores the header.
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { testClient } from './s3.ts';

export type FaultAction = 'pass' | 'drop-response' | 'hang' | { status: number; body?: string; headers?: Record<string, string> };

export interface ProxiedRequest {
  method: string;
  url: string;
  action: string;
}

export interface FaultProxy {
  endpoint: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The store, e.g. http://127.0.0.1:PORT. */
  target: string;
  /** Decides for each request; `seen` counts earlier requests with the same method and path. */
  rule?: (req: IncomingMessage, seen: number) => FaultAction;
  conditionalWrites?: boolean;
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

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const client = testClient(options.target);
  const requests: ProxiedRequest[] = [];
  const seen = new Map<string, number>();

  const keyExists = async (bucket: string, key: string) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  };

  const server = http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    const id = `${req.method} ${url.split('?')[0]}`;
    const count = seen.get(id) ?? 0;
    seen.set(id, count + 1);
    let action: FaultAction = options.rule?.(req, count) ?? 'pass';
    const object = objectOf(url);
    if (
      action === 'pass' &&
      options.conditionalWrites &&
      req.headers['if-none-match'] === '*' &&
      object &&
      (req.method === 'PUT' || (req.method === 'POST' && url.includes('uploadId='))) &&
      !url.includes('partNumber=') &&
      (await keyExists(object.bucket, object.key))
    ) {
      action = { status: 412, body: s3ErrorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold') };
    }
    requests.push({ method: req.method ?? '', url, action: typeof action === 'string' ? action : String(action.status) });

    if (action === 'hang') {
      req.resume();
      return;
    }
    if (typeof action === 'object') {
      req.resume();
      req.on('end', () => {
        const body = req.method === 'HEAD' ? '' : (action as { body?: string }).body ?? '';
        res.writeHead((action as { status: number }).status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...(action as { headers?: Record<string, string> }).headers });
        res.end(body);
      });
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: url, headers: req.headers },
      (answer) => {
        if (action === 'drop-response') {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
