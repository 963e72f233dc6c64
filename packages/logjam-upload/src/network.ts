// How a run reaches S3 beyond the endpoint: the egress proxy (HTTPS_PROXY,
// HTTP_PROXY, NO_PROXY) and the CA bundle (AWS_CA_BUNDLE, ca_bundle), read
// and checked once at start; a bad value is a configuration error (exit 2).
import type { Logger } from '@logjam/core';
import { readCaBundle } from './ca-bundle.js';
import { describeProxyRoute, readProxySettings, type ProxySettings } from './proxy.js';
import { sdk } from './sdk.js';

export interface NetworkSettings {
  /** Undefined when no proxy variable is set: every request goes direct, as before. */
  proxies: ProxySettings | undefined;
  ca: string | undefined;
}

/** Reads both (the SDK loaded); says at debug level which proxy and bundle the endpoint gets, without credentials. */
export async function networkSettings(
  env: NodeJS.ProcessEnv,
  endpoint: string | undefined,
  log: Logger,
): Promise<NetworkSettings> {
  const settings = readProxySettings(env);
  const proxies = settings.https || settings.http ? settings : undefined;
  const route = describeProxyRoute(settings, endpoint);
  if (route)
    log.debug(route, {
      noProxy: settings.noProxySource
        ? settings.noProxy.map((e) => e.host + (e.port ? `:${e.port}` : '')).join(',')
        : undefined,
    });
  let profileBundle: string | undefined;
  if (!env.AWS_CA_BUNDLE) {
    try {
      const { configFile } = await sdk().config.loadSharedConfigFiles();
      profileBundle = configFile[env.AWS_PROFILE || 'default']?.ca_bundle;
    } catch (error) {
      log.debug('no ca_bundle from the shared config file', { error: String(error) });
    }
  }
  const bundle = await readCaBundle(env, profileBundle);
  if (bundle) log.debug('CA bundle for S3', { from: bundle.source, certificates: bundle.certificates });
  return { proxies, ca: bundle?.pem };
}
