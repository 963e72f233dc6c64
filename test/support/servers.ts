// The servers an upload suite talks to, started once per mocha suite.
import { startFakeImds, type FakeImds, type FakeImdsOptions } from './imds.ts';
import { startS3, type TestS3 } from './s3.ts';

export interface SuiteServers {
  readonly s3: TestS3;
  readonly imds: FakeImds;
}

/**
 * An s3rver with `buckets` and a fake instance-metadata server for the
 * enclosing suite: started in its before(), closed in its after(). Read the
 * fields from hooks and tests only: they exist once before() has run.
 */
export function useS3AndImds(options: { buckets: string[]; imds?: FakeImdsOptions }): SuiteServers {
  let s3: TestS3 | undefined;
  let imds: FakeImds | undefined;
  before(async () => {
    s3 = await startS3({ buckets: options.buckets });
    imds = await startFakeImds(options.imds);
  });
  after(async () => {
    await s3?.close();
    await imds?.close();
  });
  const started = <T>(server: T | undefined, name: string): T => {
    if (server === undefined) throw new Error(`useS3AndImds: ${name} used before the suite's before() ran`);
    return server;
  };
  return {
    get s3() {
      return started(s3, 's3');
    },
    get imds() {
      return started(imds, 'imds');
    },
  };
}
