import { expect } from 'chai';
import type { PassSummary } from '../src/context.ts';
import { checkAccounted } from '../src/pass.ts';

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
    expect(() => checkAccounted(summary({ failed: 0 }))).to.throw(/internal error \(a bug in logjam-upload, please report it\): 5 files pending but 4 accounted for/);
  });
});
