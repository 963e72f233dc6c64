// The servers an upload suite talks to, started once per mocha suite, and the
// S3 servers every upload suite runs against: s3rver always, Ceph RGW when
// LOGJAM_TEST_RGW names one (scripts/rgw.sh start).
import { startFakeImds, type FakeImds, type FakeImdsOptions } from './imds.ts';
import { RGW_HOW_TO_ENABLE, rgwEndpoint, startRgw } from './rgw.ts';
import { startS3, type ServerKind, type TestS3 } from './s3.ts';

export interface SuiteServers {
  readonly s3: TestS3;
  readonly imds: FakeImds;
}

const SERVER_NAMES: Record<ServerKind, string> = { s3rver: 's3rver', rgw: 'Ceph RGW' };

/**
 * Declares the suite `body` once per S3 server (its title ends with the
 * server's name); without an RGW, its run is one pending test saying how to enable it.
 */
export function describeEachServer(title: string, body: (this: Mocha.Suite, kind: ServerKind) => void): void {
  for (const kind of ['s3rver', 'rgw'] as const) {
    const name = `${title} [${SERVER_NAMES[kind]}]`;
    if (kind === 'rgw' && !rgwEndpoint()) describe(name, () => it.skip(RGW_HOW_TO_ENABLE));
    else
      describe(name, function () {
        body.call(this, kind);
      });
  }
}

/** A fresh store of `kind` with `buckets` (emptied for RGW, whose buckets outlive a suite). */
export function startStore(kind: ServerKind, buckets: string[]): Promise<TestS3> {
  return kind === 'rgw' ? startRgw({ buckets }) : startS3({ buckets });
}

/**
 * A store with `buckets` and a fake instance-metadata server handing out the
 * store's keys, for the enclosing suite: started in its before(), closed in
 * its after(). Read the fields from hooks and tests only: they exist once before() has run.
 */
export function useS3AndImds(options: {
  buckets: string[];
  imds?: FakeImdsOptions;
  server?: ServerKind;
}): SuiteServers {
  let s3: TestS3 | undefined;
  let imds: FakeImds | undefined;
  before(async () => {
    s3 = await startStore(options.server ?? 's3rver', options.buckets);
    imds = await startFakeImds({ ...s3.credentials, ...options.imds });
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

/**
 * --conditional-writes as the store honours it (behind a proxy that plays S3's
 * when `played`). On a custom endpoint a promise is verified once per archive
 * folder by the probe, which a test counting requests leaves out (isProbeKey);
 * the probe has tests of its own (store-profile.integration.test.ts).
 */
export function honouredConditionalWrites(s3: TestS3, played: boolean): string[] {
  return ['--conditional-writes', s3.kind === 'rgw' ? 'put-only' : played ? 'yes' : 'no'];
}
