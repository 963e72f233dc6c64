// A multipart upload's claim on its key (claim.ts), where the store honours
// If-None-Match on PutObject only: how it is written, recognised, released and
// checked before the Complete. A stubbed client; Ceph RGW itself is in
// upload.integration.test.ts.
import { expect } from 'chai';
import { checkBeforeComplete, claimKey, claimOf, KeyTaken, releaseClaim } from '../src/claim.ts';
import type { PassContext } from '../src/context.ts';
import { MD5_METADATA } from '../src/s3.ts';
import { loadSdk } from '../src/sdk.ts';
import { fakeClient, keptLogger, s3Error, type Answer } from './fake-s3.ts';

const TARGET = { bucket: 'logs', key: 'app/web1/app-20240105T0000Z.log.gz' };
const MD5 = '0123456789abcdef0123456789abcdef';

function context(answer: Answer, settings: Partial<PassContext> = {}) {
  const fake = fakeClient(answer);
  const ctx = {
    client: fake.client,
    log: keptLogger().log,
    signal: new AbortController().signal,
    ...settings,
  } as PassContext;
  return { ctx, ...fake };
}

/** What HEAD shows of a claim written by claimKey. */
const claimHead = (input: Record<string, unknown>) => ({
  ContentLength: 0,
  Metadata: input.Metadata as Record<string, string>,
});

describe('the claim of a multipart upload (claim.ts)', () => {
  before(loadSdk);

  it('is an empty object written with If-None-Match: * that names the file by its MD5, with the object settings; its token is in the metadata', async () => {
    const { ctx, sent } = context(() => ({}), { storageClass: 'STANDARD_IA' });
    const token = await claimKey(ctx, TARGET, MD5);
    expect(sent).to.have.length(1);
    const put = sent[0]!;
    expect(put.name).to.equal('PutObject');
    expect(put.input).to.include({ Bucket: 'logs', Key: TARGET.key, IfNoneMatch: '*', StorageClass: 'STANDARD_IA' });
    expect((put.input.Body as Uint8Array).length).to.equal(0);
    expect(claimOf(claimHead(put.input), { md5: MD5 })).to.equal(token);
    // A fresh token each time: a claim of another run is not ours.
    expect(await claimKey(ctx, TARGET, MD5)).not.to.equal(token);
  });

  it('is recognised only as an empty object naming this very file', async () => {
    const { ctx, sent } = context(() => ({}));
    const token = await claimKey(ctx, TARGET, MD5);
    const head = claimHead(sent[0]!.input);
    expect(claimOf(head, { md5: MD5 })).to.equal(token);
    expect(claimOf(head, { md5: 'ffffffffffffffffffffffffffffffff' })).to.equal(undefined);
    expect(claimOf({ ...head, ContentLength: 10 }, { md5: MD5 })).to.equal(undefined);
    expect(claimOf({ ContentLength: 0, Metadata: { [MD5_METADATA]: MD5 } }, { md5: MD5 })).to.equal(undefined);
  });

  it('is released (deleted) only while HEAD shows it is still ours; a failure to release is no error', async () => {
    const { ctx: writer, sent } = context(() => ({}));
    const token = await claimKey(writer, TARGET, MD5);
    const ours = claimHead(sent[0]!.input);

    const mine = context((name) => (name === 'HeadObject' ? ours : {}));
    await releaseClaim(mine.ctx, TARGET, token);
    expect(mine.names()).to.deep.equal(['HeadObject', 'DeleteObject']);

    const replaced = context((name) => (name === 'HeadObject' ? { ContentLength: 5, Metadata: {} } : {}));
    await releaseClaim(replaced.ctx, TARGET, token);
    expect(replaced.names()).to.deep.equal(['HeadObject']);

    const failing = context(() => {
      throw s3Error('InternalError', 500);
    });
    await releaseClaim(failing.ctx, TARGET, token);
    expect(failing.names()).to.deep.equal(['HeadObject']);
  });

  it('before a Complete: the key must hold nothing or our claim; anything else is KeyTaken', async () => {
    const { ctx: writer, sent } = context(() => ({}));
    const token = await claimKey(writer, TARGET, MD5);
    const ours = claimHead(sent[0]!.input);
    const headAnswers = (head: () => unknown) => context((name) => (name === 'HeadObject' ? head() : {})).ctx;
    const missing = () => {
      throw s3Error('NotFound', 404);
    };

    await checkBeforeComplete(headAnswers(missing), TARGET, token);
    await checkBeforeComplete(headAnswers(missing), TARGET, undefined);
    await checkBeforeComplete(
      headAnswers(() => ours),
      TARGET,
      token,
    );
    const other = { ContentLength: 0, Metadata: { 'logjam-claim': 'someone-else', [MD5_METADATA]: MD5 } };
    for (const [head, claim] of [
      [other, token],
      [ours, undefined],
      [{ ContentLength: 9, Metadata: {} }, token],
      // No claim (a store with no conditional writes at all): any object written meanwhile.
      [{ ContentLength: 9, Metadata: {} }, undefined],
    ] as const) {
      const thrown = await checkBeforeComplete(
        headAnswers(() => head),
        TARGET,
        claim,
      ).catch((error: unknown) => error);
      expect(thrown, JSON.stringify(head)).to.be.instanceOf(KeyTaken);
    }
  });

  it('before a Complete, a refused HEAD (403) leaves the key to the claim; other errors are thrown', async () => {
    const refused = () =>
      context(() => {
        throw s3Error('AccessDenied', 403);
      }).ctx;
    await checkBeforeComplete(refused(), TARGET, 'token');
    await checkBeforeComplete(refused(), TARGET, undefined);
    const failing = context(() => {
      throw s3Error('InternalError', 500);
    }).ctx;
    const thrown = await checkBeforeComplete(failing, TARGET, 'token').catch((error: unknown) => error);
    expect(thrown).to.be.instanceOf(Error).and.not.instanceOf(KeyTaken);
  });
});
