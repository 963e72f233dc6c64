// Which egress proxy a request to S3 goes through, from HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY as the AWS CLI (Python's urllib), curl and the
// Python logjam (boto 2) read them. Pure: the environment comes in, the
// decision goes out; proxy-agent.ts does the talking.
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '@logjam/core';

type Env = NodeJS.ProcessEnv;

export interface Proxy {
  /** The variable it came from: HTTPS_PROXY, https_proxy, HTTP_PROXY or http_proxy. */
  source: string;
  /** Host name or IP address, without IPv6 brackets. */
  hostname: string;
  port: number;
  /** `Basic …` for credentials in the URL; never logged. */
  authorization?: string;
  /** The URL with its password masked: what messages and logs show. */
  shown: string;
}

export interface NoProxyEntry {
  /** Lower case, leading dot and IPv6 brackets stripped; '*' for every host. */
  host: string;
  port?: number;
  /** For an address range (10.0.0.0/8, fd00::/8). */
  range?: BlockList;
}

export interface ProxySettings {
  https?: Proxy;
  http?: Proxy;
  noProxy: NoProxyEntry[];
  /** NO_PROXY or no_proxy, when set. */
  noProxySource?: string;
  /** Hosts never proxied: the instance-metadata service's. */
  metadataHosts: string[];
}

/** The instance-metadata service's addresses (IPv4, IPv6), which no proxy may see: it would hand out the instance's credentials. */
export const METADATA_HOSTS = ['169.254.169.254', 'fd00:ec2::254'];

/** The lower-case variable wins, and set but empty it means none, as Python's urllib reads them. */
function variable(env: Env, upper: string): { name: string; value: string } | undefined {
  const lower = upper.toLowerCase();
  const name = env[lower] !== undefined ? lower : env[upper] !== undefined ? upper : undefined;
  const value = name === undefined ? '' : env[name]!.trim();
  return name && value ? { name, value } : undefined;
}

/** An URL's password replaced by ***: `http://user:***@proxy:3128`. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`}@`;
  });
}

/** Parses a proxy variable: http://[user:pass@]host[:port], the scheme optional (as curl); exit 2 for anything else. */
export function parseProxy(name: string, value: string): Proxy {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  const shown = maskUrl(withScheme);
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`${name} '${maskUrl(value)}' is not a proxy URL such as http://proxy.example.com:3128`);
  }
  if (url.protocol !== 'http:')
    throw new ConfigError(
      `${name} '${shown}': only http:// proxies are supported (HTTPS goes through them with CONNECT)`,
    );
  if (!url.hostname) throw new ConfigError(`${name} '${shown}' names no proxy host`);
  const proxy: Proxy = {
    source: name,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 80,
    shown: `http://${shown.replace(/^http:\/\//i, '').replace(/\/$/, '')}`,
  };
  if (url.username || url.password) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    proxy.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return proxy;
}

/** One NO_PROXY entry: a host name, .domain, *, an IP address or CIDR range, each with an optional :port. */
export function parseNoProxyEntry(text: string): NoProxyEntry | undefined {
  let entry = text.trim().toLowerCase();
  if (!entry) return undefined;
  if (entry === '*') return { host: '*' };
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    entry = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (!isIP(entry.split('/')[0]!)) {
    const withPort = /^(.*):(\d+)$/.exec(entry);
    if (withPort) [entry, port] = [withPort[1]!, Number(withPort[2])];
  }
  entry = entry.replace(/^\*?\./, '');
  const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
  const family = cidr ? isIP(cidr[1]!) : 0;
  if (cidr && family && Number(cidr[2]) <= (family === 4 ? 32 : 128)) {
    const range = new BlockList();
    range.addSubnet(cidr[1]!, Number(cidr[2]), family === 4 ? 'ipv4' : 'ipv6');
    return { host: entry, range, ...(port !== undefined ? { port } : {}) };
  }
  return { host: entry, ...(port !== undefined ? { port } : {}) };
}

/** The proxy variables of `env`; a malformed proxy URL is a configuration error (exit 2). */
export function readProxySettings(env: Env): ProxySettings {
  const http = variable(env, 'HTTP_PROXY');
  // With neither HTTPS variable set (set empty counts as set), HTTPS goes through HTTP_PROXY, as the
  // Python logjam's boto 2 sent everything through http_proxy: a host set up for it keeps working.
  const https =
    variable(env, 'HTTPS_PROXY') ?? (env.https_proxy === undefined && env.HTTPS_PROXY === undefined ? http : undefined);
  const noProxy = variable(env, 'NO_PROXY');
  const settings: ProxySettings = {
    noProxy: (noProxy?.value ?? '')
      .split(/[\s,]+/)
      .map(parseNoProxyEntry)
      .filter((entry): entry is NoProxyEntry => entry !== undefined),
    metadataHosts: [...METADATA_HOSTS, ...metadataEndpointHost(env)],
  };
  if (https) settings.https = parseProxy(https.name, https.value);
  if (http) settings.http = parseProxy(http.name, http.value);
  if (noProxy) settings.noProxySource = noProxy.name;
  return settings;
}

function metadataEndpointHost(env: Env): string[] {
  try {
    return env.AWS_EC2_METADATA_SERVICE_ENDPOINT
      ? [new URL(env.AWS_EC2_METADATA_SERVICE_ENDPOINT).hostname.replace(/^\[|\]$/g, '').toLowerCase()]
      : [];
  } catch {
    return [];
  }
}

/** Whether NO_PROXY exempts host:port (host without IPv6 brackets): equal to an entry or under its domain, in its range, at its port if it names one. */
export function bypassesProxy(host: string, port: number, entries: NoProxyEntry[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  const family = isIP(name);
  return entries.some((entry) => {
    if (entry.port !== undefined && entry.port !== port) return false;
    if (entry.host === '*') return true;
    if (entry.range) return family !== 0 && entry.range.check(name, family === 4 ? 'ipv4' : 'ipv6');
    return name === entry.host || (family === 0 && name.endsWith(`.${entry.host}`));
  });
}

/** The proxy for a request to protocol://host:port (host without brackets), or none: NO_PROXY, and the metadata service always. */
export function proxyFor(settings: ProxySettings, protocol: string, host: string, port: number): Proxy | undefined {
  const proxy = protocol === 'https:' ? settings.https : settings.http;
  if (!proxy) return undefined;
  const name = host.toLowerCase();
  if (settings.metadataHosts.includes(name)) return undefined;
  return bypassesProxy(name, port, settings.noProxy) ? undefined : proxy;
}

/** The default port of http: and https:. */
export function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

/** What a run's endpoint goes through, in words without credentials: for --check and the debug log; undefined when no proxy variable is set. */
export function describeProxyRoute(settings: ProxySettings, endpoint: string | undefined): string | undefined {
  if (!settings.https && !settings.http) return undefined;
  // An endpoint that is no URL is the upload's own usage error to report, not --check's.
  if (!URL.canParse(endpoint ?? 'https://s3.amazonaws.com')) return undefined;
  const url = new URL(endpoint ?? 'https://s3.amazonaws.com');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const target = endpoint ? url.origin : 'AWS S3 (https)';
  const proxy = proxyFor(settings, url.protocol, host, url.port ? Number(url.port) : defaultPort(url.protocol));
  if (proxy)
    return `proxy: ${proxy.shown} (${proxy.source}) for ${target}${url.protocol === 'https:' ? ', with CONNECT' : ''}`;
  const exempt =
    settings.noProxySource && bypassesProxy(host, Number(url.port) || defaultPort(url.protocol), settings.noProxy);
  return `proxy: none for ${target} (${exempt ? `${settings.noProxySource} exempts it` : `no ${url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'}`})`;
}
