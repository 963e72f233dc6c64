// A forward (egress) proxy on 127.0.0.1, as Squid plays it for a host that
// may reach S3 only through it: plain HTTP as absolute-URI requests
// (`GET http://host:port/path`), HTTPS through CONNECT tunnels. It counts
// every request and every tunnel, checks Proxy-Authorization when told to,
// and can refuse everything (407, 502). Whatever host a request names, it
// connects only to 127.0.0.1 (`localhost` is 127.0.0.1 here): the tests never
// leave the machine.
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

export interface ForwardedRequest {
  /** The request target as the client sent it: an absolute URI (`http://localhost:9000/logs/key`), or host:port for CONNECT. */
  target: string;
  method: string;
  /** The Proxy-Authorization header, if any. */
  authorization?: string | undefined;
  /** What the proxy answered (or 200 for a tunnel it opened). */
  status?: number;
}

export interface ForwardProxyOptions {
  /** `user:password`: requests without them in Proxy-Authorization get 407. */
  credentials?: string;
  /** Answer every request and CONNECT with this status, forwarding nothing. */
  refuse?: 407 | 502;
}

export interface ForwardProxy {
  /** http://127.0.0.1:PORT, for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  port: number;
  requests: ForwardedRequest[];
  /** The CONNECT requests among them. */
  tunnels(): ForwardedRequest[];
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 407: 'Proxy Authentication Required', 502: 'Bad Gateway' };

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const requests: ForwardedRequest[] = [];
  const sockets = new Set<Socket>();
  const upstream = new http.Agent({ keepAlive: true });
  const expected = options.credentials && `Basic ${Buffer.from(options.credentials).toString('base64')}`;
  /** The status to answer instead of forwarding, if any. */
  const refusal = (authorization: string | undefined) =>
    options.refuse ?? (expected && authorization !== expected ? 407 : undefined);

  const server = http.createServer((req, res) => {
    const record: ForwardedRequest = {
      target: req.url ?? '',
      method: req.method ?? '',
      authorization: req.headers['proxy-authorization'],
    };
    requests.push(record);
    const answer = (status: number) => {
      record.status = status;
      req.resume();
      res
        .writeHead(status, REASONS[status] ?? '', {
          'content-length': 0,
          ...(status === 407 ? { 'proxy-authenticate': 'Basic realm="test"' } : {}),
        })
        .end();
    };
    const refused = refusal(record.authorization);
    if (refused) return answer(refused);
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return answer(400); // not an absolute URI: a request meant for the server itself, not a proxy's
    }
    if (url.protocol !== 'http:' || !isLocal(url.hostname)) return answer(502);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const forward = http.request(
      {
        host: '127.0.0.1',
        port: url.port || 80,
        method: req.method,
        path: url.pathname + url.search,
        headers,
        agent: upstream,
      },
      (answer) => {
        record.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => (res.headersSent ? res.destroy() : answer(502)));
    req.pipe(forward);
  });

  server.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    const record: ForwardedRequest = {
      target: req.url ?? '',
      method: 'CONNECT',
      authorization: req.headers['proxy-authorization'],
    };
    requests.push(record);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const [host, port] = splitAuthority(record.target);
    const refused = refusal(record.authorization) ?? (isLocal(host) ? undefined : 502);
    if (refused) {
      record.status = refused;
      client.end(
        `HTTP/1.1 ${refused} ${REASONS[refused] ?? ''}\r\ncontent-length: 0\r\n${refused === 407 ? 'proxy-authenticate: Basic realm="test"\r\n' : ''}\r\n`,
      );
      return;
    }
    const target = net.connect({ host: '127.0.0.1', port });
    sockets.add(target);
    target.on('close', () => sockets.delete(target));
    target.on('error', () => client.destroy());
    client.on('close', () => target.destroy());
    target.once('connect', () => {
      record.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) target.write(head);
      target.pipe(client);
      client.pipe(target);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    tunnels: () => requests.filter((r) => r.method === 'CONNECT'),
    async close() {
      upstream.destroy();
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isLocal(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1';
}

/** `host:port` (IPv6 in brackets) as [host, port]. */
function splitAuthority(authority: string): [string, number] {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(authority);
  return match ? [match[1]!, Number(match[2])] : [authority, 443];
}
