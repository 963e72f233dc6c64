import { expect } from 'chai';
import type { PassContext, PassSummary } from '../src/context.ts';
import { checkAccounted, uploadPass, type PreparedPass } from '../src/pass.ts';

describe('the pass summary', () => {
  const summary = (changes: Partial<PassSummary>): PassSummary => ({
    pending: 5,
    uploaded: 1,
    alreadyThere: 1,
    conflicts: 1,
    conflictUploads: 1,
    failed: 1,
    notDone: 0,
    vanished: 1,
    bytes: 0,
    ...changes,
  });

  it('accepts a pass where every pending file is counted exactly once', () => {
    expect(() => checkAccounted(summary({}))).not.to.throw();
  });

  it('reports a file that is neither done, failed nor left as a bug, never silently', () => {
    expect(() => checkAccounted(summary({ failed: 0 }))).to.throw(
      /internal error \(a bug in logjam-upload, please report it\): 5 files pending but 4 accounted for/,
    );
  });
});

describe('a pass that miscounts', () => {
  // A prepared pass that claims to have handed out a file it never did: the
  // pass ends with one file in no count, which checkAccounted must turn into
  // an error. Proves the check is called, not only that it works.
  const miscounting = {
    pending: Promise.resolve([]),
    taken: -1,
    take: () => undefined,
    close: async () => {},
  } as unknown as PreparedPass;
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };

  it('ends in an error naming the bug, never in a summary', async () => {
    const ctx = {
      signal: new AbortController().signal,
      jobs: 1,
      archiveDir: '/nonexistent',
      log: quiet,
    } as unknown as PassContext;
    let error: unknown;
    await uploadPass(ctx, miscounting).catch((e: unknown) => (error = e));
    expect(String(error)).to.match(
      /internal error \(a bug in logjam-upload, please report it\): 0 files pending but 1 accounted for/,
    );
  });
});
