// Requests to S3 through an egress proxy, with node:http and node:https alone:
// HTTPS through a CONNECT tunnel made for each new socket (the agent keeps
// the tunnelled TLS connections alive and reuses them, as it does direct
// ones); plain HTTP as absolute-URI requests to the proxy (proxyRequest).
// Which proxy, if any, proxy.ts decides per host and port.
import type http from 'node:http';
import type https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { nodeHttp, nodeHttps } from './builtins.js';
import { defaultPort, proxyFor, type Proxy, type ProxySettings } from './proxy.js';

/** A proxy that could not be reached or refused: the message names it (password masked). */
export class ProxyError extends Error {
  override name = 'ProxyError';
  /** The HTTP status the proxy answered, so that the SDK retries a 502 and not a 407. */
  readonly $metadata: { httpStatusCode?: number };

  constructor(
    message: string,
    readonly code?: string,
    status?: number,
  ) {
    super(message);
    this.$metadata = status === undefined ? {} : { httpStatusCode: status };
  }
}

/** The host:port of a CONNECT request (an IPv6 address in brackets). */
function authority(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The ProxyError for a failure reaching `proxy`, keeping the error's code (ECONNREFUSED…) so that retries treat it as before. */
export function unreachable(proxy: Proxy, error: unknown): ProxyError {
  const code = (error as { code?: unknown } | null)?.code;
  const why = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return Object.assign(
    new ProxyError(
      `proxy ${proxy.shown} (${proxy.source}) unreachable: ${why}`,
      typeof code === 'string' ? code : undefined,
    ),
    { cause: error },
  );
}

/** The ProxyError for a proxy's refusal (407, 502, …). */
export function refused(proxy: Proxy, status: number, reason: string | undefined, what: string): ProxyError {
  return new ProxyError(
    `proxy ${proxy.shown} (${proxy.source}) refused ${what}: HTTP ${status}${reason ? ` ${reason}` : ''}`,
    undefined,
    status,
  );
}

type Callback = (error: Error | null, socket: Duplex) => void;
/** Node's Agent ignores the socket passed with an error. */
const NO_SOCKET = undefined as unknown as Duplex;

/**
 * An https.Agent that reaches the hosts the settings proxy through a CONNECT
 * tunnel, and the others directly. Node's Agent pools sockets by host and
 * port, so a tunnel's TLS connection is kept alive and reused like a direct one.
 */
export function createTunnelingAgent(
  options: https.AgentOptions,
  proxies: ProxySettings,
  /** How long the proxy may take to open a tunnel. */
  connectTimeoutMs: number,
): https.Agent {
  tunnelingAgent ??= defineTunnelingAgent();
  return new tunnelingAgent(options, proxies, connectTimeoutMs);
}

let tunnelingAgent: ReturnType<typeof defineTunnelingAgent> | undefined;

/** The class, defined once node:https is loaded (a pass's first request), not at start. */
function defineTunnelingAgent() {
  return class TunnelingAgent extends nodeHttps().Agent {
    constructor(
      options: https.AgentOptions,
      private readonly proxies: ProxySettings,
      /** How long the proxy may take to open a tunnel. */
      private readonly connectTimeoutMs: number,
    ) {
      super(options);
    }

    // Node's Agent calls createConnection(options, callback) and, when it returns nothing, waits for the callback.
    override createConnection(options: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
      const host = (options.host ?? options.hostname ?? 'localhost').replace(/^\[|\]$/g, '');
      const port = Number(options.port) || defaultPort('https:');
      const proxy = proxyFor(this.proxies, 'https:', host, port);
      const direct = (more: object) => super.createConnection({ ...options, ...more });
      if (!proxy || !callback) return direct({});
      const target = authority(host, port);
      const connect = nodeHttp().request({
        host: proxy.hostname,
        port: proxy.port,
        method: 'CONNECT',
        path: target,
        agent: false,
        headers: { host: target, ...(proxy.authorization ? { 'proxy-authorization': proxy.authorization } : {}) },
      });
      connect.setTimeout(this.connectTimeoutMs, () =>
        connect.destroy(Object.assign(new Error('ETIMEDOUT'), { code: 'ETIMEDOUT' })),
      );
      connect.once('connect', (res: http.IncomingMessage, socket: Socket, head: Buffer) => {
        connect.setTimeout(0);
        if (res.statusCode !== 200 || head.length > 0) {
          socket.destroy();
          callback(refused(proxy, res.statusCode ?? 0, res.statusMessage, `CONNECT to ${target}`), NO_SOCKET);
          return;
        }
        try {
          callback(null, direct({ socket })!);
        } catch (error) {
          socket.destroy();
          callback(error as Error, NO_SOCKET);
        }
      });
      connect.once('error', (error) => callback(unreachable(proxy, error), NO_SOCKET));
      connect.end();
      return undefined;
    }
  };
}

interface OutgoingRequest {
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  headers: Record<string, string>;
}

/**
 * A plain-HTTP request re-addressed to the proxy: to its host and port, with
 * the absolute URI as the request target and the proxy's credentials added
 * (after signing: SigV4 signs the Host header, which stays the endpoint's).
 * A copy: the SDK's request is left as it was for a retry.
 */
export function proxyRequest<T extends OutgoingRequest>(request: T, proxy: Proxy): T {
  const host =
    request.hostname.includes(':') && !request.hostname.startsWith('[') ? `[${request.hostname}]` : request.hostname;
  const origin = `http://${host}${request.port && request.port !== 80 ? `:${request.port}` : ''}`;
  const headers = proxy.authorization
    ? { ...request.headers, 'proxy-authorization': proxy.authorization }
    : request.headers;
  return Object.assign(Object.create(Object.getPrototypeOf(request) as object) as T, request, {
    hostname: proxy.hostname,
    port: proxy.port,
    path: `${origin}${request.path}`,
    headers,
  });
}

/** The proxy a request from the SDK goes through, if any. */
export function routeOf(settings: ProxySettings, request: OutgoingRequest): Proxy | undefined {
  const host = request.hostname.replace(/^\[|\]$/g, '');
  return proxyFor(settings, request.protocol, host, request.port ?? defaultPort(request.protocol));
}

/** Statuses that a proxy, not S3, answers to an absolute-URI request: authentication required, and the gateway errors. */
export const PROXY_STATUSES = new Set([407, 502, 504]);

/**
 * With Node's own proxy support on (NODE_USE_ENV_PROXY=1 or --use-env-proxy,
 * Node 24), the global agents send every request that names no agent through
 * the proxy: the SDK's requests to the instance-metadata service among them,
 * and that proxy would be handed the instance's credentials. S3's requests
 * are routed by logjam's own agents, so the global ones are made direct again.
 * Returns whether it did.
 */
export function keepGlobalAgentsDirect(env: NodeJS.ProcessEnv, execArgv: string[] = process.execArgv): boolean {
  const flag = (args: string) => /(^|\s)--use-env-proxy(\s|$)/.test(args);
  if (env.NODE_USE_ENV_PROXY !== '1' && !flag(execArgv.join(' ')) && !flag(env.NODE_OPTIONS ?? '')) return false;
  // As Node's own global agents are, but for the proxy.
  nodeHttp().globalAgent = new (nodeHttp().Agent)({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });
  nodeHttps().globalAgent = new (nodeHttps().Agent)({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });
  return true;
}
