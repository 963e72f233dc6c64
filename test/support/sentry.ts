// A fake Sentry ingest endpoint on 127.0.0.1: it accepts envelopes
// (POST /api/<project>/envelope/, gzipped or not) and keeps every event, so a
// test can point SENTRY_DSN at it (`dsn`) and look at what was reported.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export interface SentryEvent {
  message?: string;
  tags?: Record<string, string>;
  release?: string;
  exception?: { values?: Array<{ type?: string; value?: string }> };
  [key: string]: unknown;
}

export interface FakeSentry {
  /** http://key@127.0.0.1:PORT/1 */
  dsn: string;
  /** Every event received, in order. */
  events: SentryEvent[];
  /** Every request (method and URL path). */
  requests: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

/** The items of an envelope: a header line, then (item header line, payload line) pairs. */
function parseEnvelope(body: string): Array<{ type: string; payload: unknown }> {
  const lines = body.split('\n');
  const items: Array<{ type: string; payload: unknown }> = [];
  for (let i = 1; i < lines.length && lines[i]; i += 2) {
    const header = JSON.parse(lines[i]!) as { type: string };
    const payload = lines[i + 1] ?? '';
    items.push({ type: header.type, payload: payload.startsWith('{') ? JSON.parse(payload) : payload });
  }
  return items;
}

export async function startFakeSentry(): Promise<FakeSentry> {
  const events: SentryEvent[] = [];
  const requests: FakeSentry['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && /^\/api\/\d+\/envelope\//.test(req.url ?? '')) {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        for (const item of parseEnvelope(body.toString('utf8')))
          if (item.type === 'event') events.push(item.payload as SentryEvent);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://key@127.0.0.1:${port}/1`,
    events,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
