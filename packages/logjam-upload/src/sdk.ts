// The AWS SDK, loaded on first use rather than at start: it is most of
// logjam-upload's start-up time (~0.3 s of module loading), and --help,
// --check, --dry-run and bad command lines never need it. Everything else
// imports only its types statically and awaits loadSdk() before the first use.
import type * as ClientS3 from '@aws-sdk/client-s3';
import type * as CredentialProviders from '@aws-sdk/credential-providers';
import type * as Ec2Metadata from '@aws-sdk/ec2-metadata-service';
import type * as SmithyConfig from '@smithy/core/config';
import type * as NodeHttp from '@smithy/node-http-handler';
import type * as SignatureV4 from '@smithy/signature-v4';

export interface Sdk {
  s3: typeof ClientS3;
  credentials: typeof CredentialProviders;
  ec2: typeof Ec2Metadata;
  config: typeof SmithyConfig;
  http: typeof NodeHttp;
  signer: typeof SignatureV4;
}

let loading: Promise<Sdk> | undefined;
let loaded: Sdk | undefined;

/** Loads the SDK's modules (once; later calls return the same modules). */
export function loadSdk(): Promise<Sdk> {
  loading ??= Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/credential-providers'),
    import('@aws-sdk/ec2-metadata-service'),
    import('@smithy/core/config'),
    import('@smithy/node-http-handler'),
    import('@smithy/signature-v4'),
  ]).then(([s3, credentials, ec2, config, http, signer]) => (loaded = { s3, credentials, ec2, config, http, signer }));
  return loading;
}

/** The SDK after loadSdk() resolved; a programming error before. */
export function sdk(): Sdk {
  if (!loaded) throw new Error('internal error: the AWS SDK is used before loadSdk()');
  return loaded;
}

/** The standard credential chain's provider. */
export type CredentialProvider = ReturnType<typeof CredentialProviders.fromNodeProviderChain>;
