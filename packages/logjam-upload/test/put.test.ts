// One file to S3, exactly once (put.ts): what uploadFile asks and writes for
// each state of the key, against a stubbed client that plays a store, and the
// marker (a real one, in a temporary archive folder) written only after S3
// confirmed. The stores themselves are upload.integration.test.ts's part.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseLogName } from '@logjam/core';
import { cleanupTmpDirs, exists, makeArchiveDir } from '../../../test/support/index.ts';
import type { PassContext } from '../src/context.ts';
import { markerPath, MarkerWriter } from '../src/ledger.ts';
import { Lister } from '../src/lister.ts';
import { ByteBudget, type Local } from '../src/local.ts';
import { contentTypeOf, Fatal, sameObject, uploadFile, type PassState } from '../src/put.ts';
import { MD5_METADATA } from '../src/s3.ts';
import { loadSdk } from '../src/sdk.ts';
import { parseTemplate } from '../src/template.ts';
import { fakeClient, keptLogger, s3Error, type Answer } from './fake-s3.ts';

const NAME = 'app-20240105T0000Z.log.gz';
const KEY = `app/2024/01/05/${NAME}`;
const BODY = Buffer.from('the archive\n');
const MD5 = createHash('md5').update(BODY).digest('hex');
/** What HEAD shows of this very file, as logjam uploaded it. */
const SAME = { ContentLength: BODY.length, ETag: `"${MD5}"`, Metadata: { [MD5_METADATA]: MD5 } };
/** What HEAD shows of another object at the key. */
const OTHER = { ContentLength: 3, ETag: '"ffffffffffffffffffffffffffffffff"', Metadata: {} };
const notFound = () => {
  throw s3Error('NotFound', 404);
};

describe('uploadFile: one file, exactly once (put.ts)', () => {
  before(loadSdk);
  afterEach(cleanupTmpDirs);

  /** Uploads NAME through a client answering `answer`; the marker's existence is noted at every request. */
  async function upload(answer: Answer, conditional = true) {
    const archiveDir = await makeArchiveDir();
    const marked = () => exists(markerPath(archiveDir, NAME) as string);
    const markedAtRequest: boolean[] = [];
    const fake = fakeClient(async (name, input) => {
      markedAtRequest.push(await marked());
      return answer(name, input);
    });
    const ctx = {
      client: fake.client,
      log: keptLogger().log,
      signal: new AbortController().signal,
      archiveDir,
      hostname: 'web1',
      jobs: 1,
      template: parseTemplate('s3://logs/{prefix}/{year}/{month}/{day}/{filename}'),
      conditionalWrites: { put: conditional, complete: conditional },
      multipartThreshold: 200 * 1024 * 1024,
      partSize: 8 * 1024 * 1024,
    } as PassContext;
    const pass: PassState = {
      markers: new MarkerWriter(archiveDir),
      badBuckets: new Map(),
      lister: new Lister(ctx, []),
      memory: new ByteBudget(1 << 20),
      orphans: 0,
    };
    const local: Local = {
      log: parseLogName(NAME)!,
      file: path.join(archiveDir, NAME),
      size: BODY.length,
      md5: MD5,
      body: BODY,
    };
    const result = await uploadFile(ctx, pass, local).catch((error: unknown) => error as Error);
    if (!(result instanceof Error)) await result.durable;
    const puts = fake.sent.filter((s) => s.name === 'PutObject').map((s) => s.input);
    return { result, ctx, names: fake.names(), puts, marked: await marked(), markedAtRequest };
  }

  it('a new file to a store that honours If-None-Match: one conditional PUT carrying its MD5, no HEAD; then the marker', async () => {
    const run = await upload(() => ({ ETag: `"${MD5}"` }));
    expect(run.result).to.include({ outcome: 'uploaded', bytes: BODY.length });
    expect(run.names).to.deep.equal(['PutObject']);
    expect(run.puts[0]).to.include({
      Bucket: 'logs',
      Key: KEY,
      IfNoneMatch: '*',
      ContentMD5: Buffer.from(MD5, 'hex').toString('base64'),
    });
    expect(run.puts[0]!.Metadata).to.deep.equal({ [MD5_METADATA]: MD5 });
    expect(run.markedAtRequest).to.deep.equal([false]);
    expect(run.marked).to.equal(true);
  });

  it('a PUT refused (412) by this very file at the key (markers lost): marked, nothing written again', async () => {
    const run = await upload((name) => {
      if (name === 'PutObject') throw s3Error('PreconditionFailed', 412);
      return SAME;
    });
    expect(run.result).to.include({ outcome: 'already', bytes: 0 });
    expect(run.names).to.deep.equal(['PutObject', 'HeadObject']);
    expect(run.marked).to.equal(true);
  });

  it('a different object at the key is never replaced: the file goes to a conflict key beside it', async () => {
    const run = await upload((name, input) => {
      if (input.Key === KEY) {
        if (name === 'PutObject') throw s3Error('PreconditionFailed', 412);
        return OTHER;
      }
      return {};
    });
    expect(run.result).to.include({ outcome: 'conflict-uploaded' });
    expect(run.puts.map((p) => p.Key)).to.have.length(2);
    expect(run.puts[1]!.Key).not.to.equal(KEY);
    expect(run.puts.every((p) => p.IfNoneMatch === '*')).to.equal(true);
    expect(run.marked).to.equal(true);
  });

  it('without conditional writes, HEAD first: the same file is only marked, a free key gets a plain PUT, a taken one a conflict key', async () => {
    const same = await upload((name) => (name === 'HeadObject' ? SAME : {}), false);
    expect(same.names).to.deep.equal(['HeadObject']);
    expect(same.result).to.include({ outcome: 'already' });

    const free = await upload((name) => (name === 'HeadObject' ? notFound() : {}), false);
    expect(free.names).to.deep.equal(['HeadObject', 'PutObject']);
    expect(free.puts[0]).not.to.have.property('IfNoneMatch');
    expect(free.result).to.include({ outcome: 'uploaded' });

    const taken = await upload(
      (name, input) => (name === 'HeadObject' ? (input.Key === KEY ? OTHER : notFound()) : {}),
      false,
    );
    expect(taken.puts.map((p) => p.Key)).to.have.length(1);
    expect(taken.puts[0]!.Key).not.to.equal(KEY);
  });

  it('a lost answer (500 after retries) is an unknown: HEAD tells whether it landed; the marker only if it did', async () => {
    let put = 0;
    const landed = await upload((name) => {
      if (name === 'PutObject' && ++put === 1) throw s3Error('InternalError', 500);
      return SAME;
    });
    expect(landed.result).to.include({ outcome: 'uploaded' });
    expect(landed.names).to.deep.equal(['PutObject', 'HeadObject']);
    expect(landed.marked).to.equal(true);

    const lost = await upload((name) =>
      name === 'PutObject' ? Promise.reject(s3Error('InternalError', 500)) : notFound(),
    );
    expect(lost.result).to.be.instanceOf(Error);
    expect(lost.names).to.deep.equal(['PutObject', 'HeadObject']);
    expect(lost.marked).to.equal(false);
  });

  it('a store answering 501 to If-None-Match: the pass stops asking for it, and the PUT goes again without', async () => {
    const run = await upload((name, input) => {
      if (name === 'PutObject' && input.IfNoneMatch) throw s3Error('NotImplemented', 501);
      return {};
    });
    expect(run.ctx.conditionalWrites).to.deep.equal({ put: false, complete: false });
    expect(run.puts.map((p) => p.IfNoneMatch)).to.deep.equal(['*', undefined]);
    expect(run.result).to.include({ outcome: 'uploaded' });
  });

  it('a missing bucket is Fatal for the pass, and nothing is marked', async () => {
    const run = await upload(() => {
      throw s3Error('NoSuchBucket', 404);
    });
    expect(run.result).to.be.instanceOf(Fatal);
    expect(run.marked).to.equal(false);
  });
});

describe('what put.ts decides alone', () => {
  it('sameObject: the same size and MD5, from our metadata or a single-part ETag', () => {
    const local = { size: 10, md5: MD5 };
    expect(
      sameObject({ ContentLength: 10, ETag: '"whatever-2"', Metadata: { [MD5_METADATA]: MD5.toUpperCase() } }, local),
    ).to.equal(true);
    expect(sameObject({ ContentLength: 10, ETag: `"${MD5}"` }, local)).to.equal(true);
    expect(sameObject({ ContentLength: 11, ETag: `"${MD5}"` }, local)).to.equal(false);
    // Our metadata wins over an ETag that happens to match.
    expect(
      sameObject(
        { ContentLength: 10, ETag: `"${MD5}"`, Metadata: { [MD5_METADATA]: 'ffffffffffffffffffffffffffffffff' } },
        local,
      ),
    ).to.equal(false);
    expect(sameObject({ ContentLength: 10, ETag: `"${MD5}-2"` }, local)).to.equal(false);
  });

  it("contentTypeOf: zstd's registered type for .zst, none otherwise", () => {
    expect(contentTypeOf('a-20240105T0000Z.log.zst')).to.deep.equal({ ContentType: 'application/zstd' });
    expect(contentTypeOf(NAME)).to.deep.equal({});
  });
});
