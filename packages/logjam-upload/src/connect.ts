// Making the S3 client a run (or an audit) talks through: region, endpoint, proxies, checked credentials.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@logjam/core';
import { networkSettings } from './network.js';
import { keepGlobalAgentsDirect } from './proxy-agent.js';
import {
  checkCredentials,
  chooseEndpoint,
  createClient,
  credentialChain,
  resolveRegion,
  type RequestCounts,
  type RetryMode,
} from './s3.js';
import { loadSdk } from './sdk.js';
import { fixedBucket, type Template } from './template.js';

/** What the client is made from (logjam-upload and its --audit alike). */
export interface ConnectOptions {
  template: Template;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  forcePathStyle: boolean;
  /** Sockets: three per job, and two for the store checks. */
  jobs: number;
  retryMode?: RetryMode | undefined;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

/** Loads the SDK and makes the client: region, endpoint, credentials (checked); the client counts its requests. */
export async function connect(
  options: ConnectOptions,
  signal: AbortSignal,
  counts: RequestCounts,
): Promise<{ client: S3Client; endpoint: string | undefined }> {
  const { log } = options;
  if (keepGlobalAgentsDirect(options.env))
    log.debug("Node's own proxy support is off for logjam-upload: the instance-metadata service is asked directly");
  await loadSdk();
  const { region, source } = await resolveRegion(options.region, options.env, log);
  const endpoint = chooseEndpoint(options.endpointUrl, options.env);
  log.debug('S3 settings', {
    region,
    regionFrom: source,
    endpoint: endpoint ?? 'AWS',
    bucket: fixedBucket(options.template) ?? options.template.source,
  });
  const network = await networkSettings(options.env, endpoint, log);
  const credentials = credentialChain(network);
  await checkCredentials(credentials, options.env, log);
  const client = createClient(
    {
      region,
      endpoint,
      forcePathStyle: options.forcePathStyle,
      maxSockets: options.jobs * 3 + 2,
      env: options.env,
      signal,
      retryMode: options.retryMode,
      counts,
      ...network,
    },
    credentials,
  );
  return { client, endpoint };
}
