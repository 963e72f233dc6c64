// The SDK's Node request handler as logjam-upload uses it, for the S3 client
// and the credential chain's STS / SSO clients: keep-alive agents, the run's
// stop signal on every request, the egress proxy (proxy.ts, proxy-agent.ts)
// and the CA bundle.
import { PROXY_STATUSES, proxyRequest, refused, routeOf, createTunnelingAgent, unreachable } from './proxy-agent.js';
import { nodeHttp, nodeHttps } from './builtins.js';
import type { ProxySettings } from './proxy.js';
import { sdk } from './sdk.js';

/** How long a connection (a proxy's tunnel included) may take to open. */
const CONNECTION_TIMEOUT_MS = 5_000;

/** What a request handler needs: sockets to keep, the run's stop signal, the proxy and the CA (of s3.ts's ClientSettings, which imports this file). */
export interface HandlerSettings {
  maxSockets: number;
  signal?: AbortSignal | undefined;
  proxies?: ProxySettings | undefined;
  ca?: string | undefined;
}

/**
 * The SDK's Node request handler, with keep-alive agents, the run's stop signal on every request, and the proxy
 * (proxy.ts) and CA bundle: for the S3 client, and for the STS / SSO clients of the credential chain.
 */
export function createRequestHandler(
  settings: HandlerSettings,
): InstanceType<ReturnType<typeof sdk>['http']['NodeHttpHandler']> {
  const { http: smithyHttp } = sdk();
  const agentOptions = { keepAlive: true, maxSockets: settings.maxSockets };
  const stop = settings.signal;
  const proxies = settings.proxies;
  const httpsOptions = settings.ca ? { ...agentOptions, ca: settings.ca } : agentOptions;
  type Request = Parameters<typeof smithyHttp.NodeHttpHandler.prototype.handle>[0];
  // Every request gets the run's stop signal here, so that send() needs no
  // per-call options: only then does the SDK reuse a command's resolved
  // middleware stack (cacheMiddleware) instead of building it anew for every
  // request, a fifth of the SDK's CPU per small PUT (measured).
  const Handler = class extends smithyHttp.NodeHttpHandler {
    override handle(request: Request, options: Parameters<typeof smithyHttp.NodeHttpHandler.prototype.handle>[1] = {}) {
      const withStop = stop && !options.abortSignal ? { ...options, abortSignal: stop } : options;
      const proxy = proxies && routeOf(proxies, request);
      if (!proxy) return super.handle(request, withStop);
      // Plain HTTP goes to the proxy as an absolute-URI request; HTTPS through the agent's CONNECT tunnel.
      const sent = request.protocol === 'http:' ? proxyRequest(request, proxy) : request;
      return super.handle(sent, withStop).then(
        (out) => {
          const status = out.response.statusCode;
          if (request.protocol !== 'http:' || !PROXY_STATUSES.has(status)) return out;
          (out.response.body as { resume?: () => void } | undefined)?.resume?.();
          throw refused(
            proxy,
            status,
            out.response.reason,
            `${request.method} http://${request.hostname}${request.port ? `:${request.port}` : ''}`,
          );
        },
        (error: unknown) => {
          // Only a plain-HTTP request's connection is to the proxy itself (a tunnel's failures are the agent's ProxyErrors).
          const syscall = (error as { syscall?: unknown } | null)?.syscall;
          throw request.protocol === 'http:' && (syscall === 'connect' || syscall === 'getaddrinfo')
            ? unreachable(proxy, error)
            : error;
        },
      );
    }
  };
  return new Handler({
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    // A connection silent this long is cut, and the request retried. (Not requestTimeout:
    // in @smithy/node-http-handler 4 that is a whole-request limit that only logs a warning
    // unless throwOnRequestTimeout is set, so a stalled answer would hang the upload for good.)
    socketTimeout: 120_000,
    httpAgent: new (nodeHttp().Agent)(agentOptions),
    httpsAgent: proxies
      ? createTunnelingAgent(httpsOptions, proxies, CONNECTION_TIMEOUT_MS)
      : new (nodeHttps().Agent)(httpsOptions),
  });
}
