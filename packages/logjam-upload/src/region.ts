// The region to sign for: the flag, the environment, the profile, the instance's own, or us-east-1.
import type { Logger } from '@logjam/core';
import { loadSdk } from './sdk.js';

/** How long the instance-metadata lookups may take off EC2, so that a laptop run is not slow. */
export const METADATA_TIMEOUT_MS = 1000;

type Env = NodeJS.ProcessEnv;

export interface RegionChoice {
  region: string;
  source: string;
}

/**
 * The region, in the order the issue (and the Python tool) gives: --region,
 * AWS_REGION / AWS_DEFAULT_REGION, the profile's region, the instance's own
 * region from instance metadata, then us-east-1.
 */
export async function resolveRegion(flag: string | undefined, env: Env, log: Logger): Promise<RegionChoice> {
  if (flag) return { region: flag, source: '--region' };
  if (env.AWS_REGION) return { region: env.AWS_REGION, source: 'AWS_REGION' };
  if (env.AWS_DEFAULT_REGION) return { region: env.AWS_DEFAULT_REGION, source: 'AWS_DEFAULT_REGION' };
  const profile = env.AWS_PROFILE || 'default';
  try {
    // The SDK's own reader of ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE).
    const { configFile, credentialsFile } = await (await loadSdk()).config.loadSharedConfigFiles({ ignoreCache: true });
    const region = configFile[profile]?.region ?? credentialsFile[profile]?.region;
    if (region) return { region, source: `profile ${profile}` };
  } catch (error) {
    log.debug('no region from the shared config files', { error: String(error) });
  }
  const fromMetadata = await instanceRegion(env, log);
  if (fromMetadata) return { region: fromMetadata, source: 'instance metadata' };
  return { region: 'us-east-1', source: 'default' };
}

/** The instance's region from instance metadata (IMDSv2, falling back to v1), or null within about a second. */
export async function instanceRegion(env: Env, log: Logger): Promise<string | null> {
  if ((env.AWS_EC2_METADATA_DISABLED ?? '').toLowerCase() === 'true') return null;
  const service = new (await loadSdk()).ec2.MetadataService({
    httpOptions: { timeout: METADATA_TIMEOUT_MS },
    retries: 0,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), METADATA_TIMEOUT_MS * 1.5);
  });
  try {
    const region = await Promise.race([
      service.request('latest/meta-data/placement/region', {}) /* the service prefixes the endpoint's path, '/' */,
      deadline,
    ]);
    const trimmed = region?.trim();
    return trimmed && /^[a-z0-9-]+$/.test(trimmed) ? trimmed : null;
  } catch (error) {
    log.debug('no region from instance metadata', { error: String(error) });
    return null;
  } finally {
    clearTimeout(timer);
  }
}
