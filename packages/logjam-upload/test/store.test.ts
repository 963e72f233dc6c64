// What a run learns about the store (store.ts): which buckets it checks and
// what a missing or half-refused one means, and what the store does with
// If-None-Match, taken from the store profile while fresh, probed otherwise,
// and remembered. A stubbed client, a real profile in a temporary archive
// folder; the binary against real stores is store-profile.integration.test.ts.
import { expect } from 'chai';
import { parseLogName, type LogName } from '@logjam/core';
import { promises as fs } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { cleanupTmpDirs, makeArchiveDir } from '../../../test/support/index.ts';
import type { PassSummary } from '../src/context.ts';
import { markerDir } from '../src/ledger.ts';
import { profileKey, StoreProfile } from '../src/profile.ts';
import { MissingBucketError } from '../src/s3.ts';
import { loadSdk } from '../src/sdk.ts';
import { BucketCheck, StoreWrites, type StoreOptions } from '../src/store.ts';
import { parseTemplate } from '../src/template.ts';
import { fakeClient, keptLogger, s3Error, type Answer } from './fake-s3.ts';

const ENDPOINT = 'http://127.0.0.1:9000';
const HOUR = 'app-20240105T0000Z.log.gz';
const NOW = Date.UTC(2026, 11, 6);
const DAY = 24 * 60 * 60 * 1000;

/** The run's settings a store check reads. */
function runOptions(template: string, changes: Partial<StoreOptions> = {}): StoreOptions {
  return {
    template: parseTemplate(template),
    env: {},
    once: true,
    conditionalWritesMode: 'auto',
    ...keptLogger(),
    ...changes,
  };
}

/** The pass's listing of pending archives, as the store checks are handed it. */
const pending = (...names: string[]): LogName[] => names.map((name) => parseLogName(name)!);

async function archive(names: string[]): Promise<{ archiveDir: string; profile: () => StoreProfile }> {
  const archiveDir = await makeArchiveDir(Object.fromEntries(names.map((name) => [name, 'x'])));
  await fs.mkdir(markerDir(archiveDir));
  return { archiveDir, profile: () => new StoreProfile(archiveDir, keptLogger().log) };
}

function bucketCheck(options: StoreOptions, client: S3Client, archiveDir: string, profile: StoreProfile): BucketCheck {
  return new BucketCheck(
    options,
    client,
    new AbortController().signal,
    { archiveDir, hostname: 'web1', endpoint: ENDPOINT },
    profile,
  );
}

function storeWrites(options: StoreOptions, client: S3Client, archiveDir: string, profile: StoreProfile): StoreWrites {
  return new StoreWrites(
    options,
    client,
    { endpoint: ENDPOINT, archiveDir, hostname: 'web1' },
    profile,
    new AbortController().signal,
  );
}

const PASS: PassSummary = {
  pending: 1,
  uploaded: 1,
  alreadyThere: 0,
  conflicts: 0,
  conflictUploads: 0,
  failed: 0,
  notDone: 0,
  vanished: 0,
  bytes: 1,
};

/** A store honouring If-None-Match on PutObject and on Complete: the probe's second PUT and its Complete are refused. */
function honouringStore(): Answer {
  let written = false;
  return (name, input) => {
    if ((name === 'PutObject' && written && input.IfNoneMatch) || name === 'CompleteMultipartUpload')
      throw s3Error('PreconditionFailed', 412);
    if (name === 'PutObject') written = true;
    if (name === 'ListMultipartUploads') return { Uploads: [] };
    if (name === 'CreateMultipartUpload') return { UploadId: 'u1' };
    return {};
  };
}

describe('the bucket check (store.ts)', () => {
  before(loadSdk);
  afterEach(cleanupTmpDirs);

  it('with a field in the bucket name, checks the buckets of the pending files; one missing fails only its own files', async () => {
    const { archiveDir, profile } = await archive([HOUR, 'db-20240105T0000Z.log.gz']);
    const { client, sent } = fakeClient((name, input) => {
      if (input.Bucket === 'logs-db') throw s3Error('NotFound', 404);
      return {};
    });
    const options = runOptions('s3://logs-{prefix}/{year}/{month}/{day}/{filename}');
    const check = bucketCheck(options, client, archiveDir, profile());
    await check.check(pending(HOUR, 'db-20240105T0000Z.log.gz'));
    expect(sent.map((s) => s.input.Bucket)).to.deep.equal(['logs-app', 'logs-db']);
    expect(check.checked).to.equal(true);
  });

  it('the one bucket missing is an error: nothing can be uploaded', async () => {
    const { archiveDir, profile } = await archive([HOUR]);
    const { client } = fakeClient(() => {
      throw s3Error('NotFound', 404);
    });
    const check = bucketCheck(
      runOptions('s3://logs/{prefix}/{year}/{month}/{day}/{filename}'),
      client,
      archiveDir,
      profile(),
    );
    const thrown = await check.check(pending(HOUR)).catch((error: unknown) => error);
    expect(thrown).to.be.instanceOf(MissingBucketError);
    expect(check.checked).to.equal(false);
  });

  it('a refused HeadBucket is remembered after a good pass: the next run sends the HeadBucket alone, not the GET that tells why', async () => {
    const { archiveDir, profile } = await archive([HOUR]);
    const answer: Answer = (name) => {
      if (name === 'HeadBucket') throw s3Error('Forbidden', 403);
      throw s3Error('NoSuchKey', 404);
    };
    const options = runOptions('s3://logs/{prefix}/{year}/{month}/{day}/{filename}');
    const first = fakeClient(answer);
    const firstProfile = profile();
    const check = bucketCheck(options, first.client, archiveDir, firstProfile);
    await check.check(pending(HOUR));
    expect(first.names()).to.deep.equal(['HeadBucket', 'GetObject']);
    await check.afterPass(PASS, NOW);
    await firstProfile.save();

    const next = fakeClient(answer);
    await bucketCheck(options, next.client, archiveDir, profile()).check(pending(HOUR));
    expect(next.names()).to.deep.equal(['HeadBucket']);
  });
});

describe('what the store does with If-None-Match (store.ts)', () => {
  before(loadSdk);
  afterEach(cleanupTmpDirs);

  const options = () => runOptions('s3://logs/{prefix}/{year}/{month}/{day}/{filename}');

  it('is probed when the profile knows nothing, remembered in the profile, and not probed again by the next run', async () => {
    const { archiveDir, profile } = await archive([HOUR]);
    const first = fakeClient(honouringStore());
    const learned = await storeWrites(options(), first.client, archiveDir, profile()).learn([], NOW);
    expect(first.names()).to.include('CompleteMultipartUpload');
    expect(learned.conditionalWrites).to.deep.equal({ put: true, complete: true });

    const next = fakeClient(honouringStore());
    const again = await storeWrites(options(), next.client, archiveDir, profile()).learn([], NOW + DAY);
    expect(next.sent).to.deep.equal([]);
    expect(again.conditionalWrites).to.deep.equal({ put: true, complete: true });
  });

  it('a profile a week old is probed again', async () => {
    const { archiveDir, profile } = await archive([HOUR]);
    await storeWrites(options(), fakeClient(honouringStore()).client, archiveDir, profile()).learn([], NOW);
    const later = fakeClient(honouringStore());
    await storeWrites(options(), later.client, archiveDir, profile()).learn([], NOW + 8 * DAY);
    expect(later.names()).to.include('PutObject');
  });

  it('a pass that found the store doing less (a 501 cleared what it was given) is remembered: the next run does not trust the old probe', async () => {
    const { archiveDir, profile } = await archive([HOUR]);
    const store = storeWrites(options(), fakeClient(honouringStore()).client, archiveDir, profile());
    const given = await store.learn([], NOW);
    // What a pass does to the writes it was given when the store answers 501 (put.ts).
    given.conditionalWrites.put = false;
    given.conditionalWrites.complete = false;
    await store.afterPass(given, NOW + 1);
    const facts = await profile().facts(profileKey(ENDPOINT, 'logs', ''));
    expect(facts.writes).to.deep.equal({ put: false, complete: false });
  });

  it('a listing refused in a pass is said at WARN once, and remembered: the next run goes to HEAD at once', async () => {
    const { archiveDir, profile } = await archive([HOUR]);
    const log = keptLogger();
    const store = storeWrites(
      runOptions('s3://logs/{prefix}/{year}/{month}/{day}/{filename}', { log: log.log }),
      fakeClient(honouringStore()).client,
      archiveDir,
      profile(),
    );
    const given = await store.learn([], NOW);
    given.listing.supported = false;
    await store.afterPass(given, NOW);
    await store.afterPass(store.current(), NOW);
    expect(log.lines.filter((line) => / WARN listing refused/.test(line))).to.have.length(1);

    const next = await storeWrites(options(), fakeClient(honouringStore()).client, archiveDir, profile()).learn(
      [],
      NOW + DAY,
    );
    expect(next.listing.supported).to.equal(false);
  });
});
