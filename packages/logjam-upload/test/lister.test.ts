// Whether keys are taken, asked of a key folder at once (lister.ts): which
// folders are listed, what a listing answers for a key, and when it leaves the
// key to HEAD. A stubbed client; the request counts against real stores are
// in test/fleet.test.ts.
import { expect } from 'chai';
import { parseLogName, type LogName } from '@logjam/core';
import type { PassContext } from '../src/context.ts';
import { commonPrefix, folderOf, LIST_MIN_FILES, listObjectPages, Lister } from '../src/lister.ts';
import { loadSdk } from '../src/sdk.ts';
import { parseTemplate } from '../src/template.ts';
import { fakeClient, keptLogger, s3Error, type Answer } from './fake-s3.ts';

const TEMPLATE = parseTemplate('s3://logs/{prefix}/{year}/{month}/{day}/{filename}');
const MD5 = '0123456789abcdef0123456789abcdef';

/** `count` hourly archives of one prefix and day: one key folder. */
function archives(prefix: string, count: number): LogName[] {
  return Array.from({ length: count }, (_, hour) =>
    parseLogName(`${prefix}-20240105T${String(hour).padStart(2, '0')}00Z.log.gz`)!,
  );
}

const keyOf = (log: LogName) => `${log.prefix}/2024/01/05/${log.name}`;

function lister(pending: LogName[], answer: Answer, put = true) {
  const fake = fakeClient(answer);
  const ctx = {
    client: fake.client,
    log: keptLogger().log,
    hostname: 'web1',
    template: TEMPLATE,
    conditionalWrites: { put, complete: put },
    listing: { supported: true },
  } as unknown as PassContext;
  return { lister: new Lister(ctx, pending), ctx, ...fake };
}

/** A listing that holds `objects` (key, size, ETag as S3 gives it). */
const listing =
  (objects: Array<{ Key: string; Size: number; ETag: string }>): Answer =>
  (name) => {
    if (name !== 'ListObjectsV2') throw new Error(`unexpected ${name}`);
    return { Contents: objects, IsTruncated: false };
  };

describe('the listing of a key folder (lister.ts)', () => {
  before(loadSdk);

  it('lists a folder of at least LIST_MIN_FILES pending files once, under their common prefix, whatever is asked of it', async () => {
    const pending = archives('app', LIST_MIN_FILES);
    const { lister: l, sent } = lister(pending, listing([]));
    for (const log of pending) expect(await l.lookup('logs', keyOf(log), { size: 10, md5: MD5 })).to.equal('missing');
    expect(sent).to.have.length(1);
    expect(sent[0]!.input).to.include({ Bucket: 'logs', Prefix: 'app/2024/01/05/app-20240105T0' });
  });

  it('leaves a folder of fewer files to HEAD: no listing', async () => {
    const pending = [...archives('app', LIST_MIN_FILES), ...archives('db', LIST_MIN_FILES - 1)];
    const { lister: l, sent } = lister(pending, listing([]));
    expect(await l.lookup('logs', keyOf(pending.at(-1)!), { size: 10, md5: MD5 })).to.equal(null);
    expect(sent).to.deep.equal([]);
  });

  it('a listed key with this size and MD5 holds this very file; any other object (a multipart ETag, another size) is left to HEAD', async () => {
    const [a, b, c] = archives('app', LIST_MIN_FILES);
    const { lister: l } = lister(
      archives('app', LIST_MIN_FILES),
      listing([
        { Key: keyOf(a!), Size: 10, ETag: `"${MD5}"` },
        { Key: keyOf(b!), Size: 10, ETag: '"0123456789abcdef0123456789abcdef-2"' },
        { Key: keyOf(c!), Size: 11, ETag: `"${MD5}"` },
      ]),
    );
    const local = { size: 10, md5: MD5 };
    expect(await l.lookup('logs', keyOf(a!), local)).to.equal('same');
    expect(await l.lookup('logs', keyOf(b!), local)).to.equal(null);
    expect(await l.lookup('logs', keyOf(c!), local)).to.equal(null);
  });

  it('a key the listing lacks is free only where the PUT is conditional (a key taken meanwhile still answers 412)', async () => {
    const pending = archives('app', LIST_MIN_FILES);
    const { lister: l } = lister(pending, listing([]), false);
    expect(await l.lookup('logs', keyOf(pending[0]!), { size: 10, md5: MD5 })).to.equal(null);
  });

  it('a refused listing (403) leaves every key to HEAD, and says so for the rest of the run', async () => {
    const pending = [...archives('app', LIST_MIN_FILES), ...archives('db', LIST_MIN_FILES)];
    const {
      lister: l,
      ctx,
      sent,
    } = lister(pending, () => {
      throw s3Error('AccessDenied', 403);
    });
    expect(await l.lookup('logs', keyOf(pending[0]!), { size: 10, md5: MD5 })).to.equal(null);
    expect(ctx.listing).to.deep.equal({ supported: false });
    expect(await l.lookup('logs', keyOf(pending.at(-1)!), { size: 10, md5: MD5 })).to.equal(null);
    expect(sent).to.have.length(1);
  });

  it('a listing cut short (past its page budget) answers nothing for the keys after its last', async () => {
    const pending = archives('app', LIST_MIN_FILES);
    const { lister: l, sent } = lister(pending, () => ({
      Contents: [{ Key: keyOf(pending[0]!), Size: 10, ETag: `"${MD5}"` }],
      IsTruncated: true,
      NextContinuationToken: 't',
    }));
    expect(await l.lookup('logs', keyOf(pending[0]!), { size: 10, md5: MD5 })).to.equal('same');
    expect(await l.lookup('logs', keyOf(pending[1]!), { size: 10, md5: MD5 })).to.equal(null);
    expect(sent).to.have.length(1);
  });

  it('remembers a folder whose key turned out taken', () => {
    const pending = archives('app', LIST_MIN_FILES);
    const { lister: l } = lister(pending, listing([]));
    expect(l.folderTaken('logs', keyOf(pending[1]!))).to.equal(false);
    l.noteTaken('logs', keyOf(pending[0]!));
    expect(l.folderTaken('logs', keyOf(pending[1]!))).to.equal(true);
  });

  it('listObjectPages: one request per page, following the continuation token', async () => {
    const pages = [
      { Contents: [{ Key: 'a/1', Size: 1, ETag: '"AB"' }], IsTruncated: true, NextContinuationToken: 't1' },
      { Contents: [{ Key: 'a/2', Size: 2 }], IsTruncated: false },
    ];
    const { client, sent } = fakeClient(() => pages.shift());
    const seen = [];
    for await (const page of listObjectPages(client, 'logs', 'a/')) seen.push(page);
    expect(seen).to.deep.equal([
      { entries: [{ key: 'a/1', size: 1, etag: 'ab' }], more: true },
      { entries: [{ key: 'a/2', size: 2, etag: undefined }], more: false },
    ]);
    expect(sent.map((s) => s.input.ContinuationToken)).to.deep.equal([undefined, 't1']);
  });

  it('folderOf and commonPrefix: a folder per bucket, and a prefix never cut inside a surrogate pair', () => {
    expect(folderOf('logs', 'app/2024/x.gz')).to.equal('logs/app/2024/');
    expect(folderOf('logs', 'x.gz')).to.equal('logs/');
    expect(commonPrefix(['app/a1', 'app/a2', 'app/b'])).to.equal('app/');
    expect(commonPrefix(['d/\u{1F600}', 'd/\u{1F601}'])).to.equal('d/');
    expect(commonPrefix([])).to.equal('');
  });
});
