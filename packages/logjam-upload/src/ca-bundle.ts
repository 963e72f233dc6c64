// A private CA (a TLS-inspecting proxy's, an in-house S3's): AWS_CA_BUNDLE,
// else `ca_bundle` in the profile of the AWS config file, as the AWS CLI reads
// them. As there, the bundle is the whole trust store for S3 (Node's own
// NODE_EXTRA_CA_CERTS adds to the public roots instead, when no bundle is set).
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { ConfigError, errorCode } from '@logjam/core';

export interface CaBundle {
  /** The PEM text, for the https.Agent's `ca`. */
  pem: string;
  /** Where it came from, for messages: `AWS_CA_BUNDLE /etc/ssl/corp.pem`. */
  source: string;
  certificates: number;
}

/** The certificates of a PEM text; a ConfigError naming `source` when there is none or one is damaged. */
export function parseCaBundle(text: string, source: string): CaBundle {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new ConfigError(
      `${source} holds no PEM certificate (-----BEGIN CERTIFICATE-----); point it at the CA bundle in PEM format`,
    );
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new ConfigError(
        `${source}: certificate ${i + 1} of ${blocks.length} is not valid PEM (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  });
  return { pem: blocks.join('\n'), source, certificates: blocks.length };
}

/** The bundle named by AWS_CA_BUNDLE, else by the profile's ca_bundle; none when neither is set. */
export async function readCaBundle(
  env: NodeJS.ProcessEnv,
  profileCaBundle: string | undefined,
): Promise<CaBundle | undefined> {
  const [file, from] = env.AWS_CA_BUNDLE
    ? [env.AWS_CA_BUNDLE, 'AWS_CA_BUNDLE']
    : profileCaBundle
      ? [profileCaBundle, `ca_bundle of profile '${env.AWS_PROFILE || 'default'}'`]
      : [];
  if (!file || !from) return undefined;
  const source = `${from} ${file}`;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read the CA bundle (${source}): ${errorCode(error) === 'ENOENT' ? 'no such file' : (errorCode(error) ?? String(error))}`,
    );
  }
  return parseCaBundle(text, source);
}
