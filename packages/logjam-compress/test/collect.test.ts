import { expect } from 'chai';
import { collectAbove, collectEvery } from '../src/collect.ts';

describe('collect.ts (collections of its own, when gc is exposed)', () => {
  const global = globalThis as { gc?: unknown };
  let saved: unknown;
  let calls: unknown[];
  beforeEach(() => {
    saved = global.gc;
    calls = [];
    global.gc = (options: unknown) => void calls.push(options);
  });
  afterEach(() => {
    if (saved === undefined) delete global.gc;
    else global.gc = saved;
  });

  it('collectEvery: a young-generation collection each time `every` more bytes have passed', () => {
    const collect = collectEvery(100);
    for (const bytes of [40, 40]) collect(bytes);
    expect(calls, 'after 80 bytes').to.deep.equal([]);
    collect(40);
    expect(calls, 'after 120 bytes').to.deep.equal([{ type: 'minor' }]);
    for (const bytes of [60, 30]) collect(bytes);
    expect(calls, 'the count starts again after a collection').to.have.length(1);
    collect(10);
    expect(calls).to.deep.equal([{ type: 'minor' }, { type: 'minor' }]);
  });

  it("collectAbove: a full collection at each check that finds the process's Buffers above the limit, none below", () => {
    let buffers = 0;
    const check = collectAbove(100, () => buffers);
    for (buffers of [10, 100]) check();
    expect(calls, 'at or below the limit').to.deep.equal([]);
    for (buffers of [101, 50, 300]) check();
    expect(calls).to.deep.equal([{ type: 'major' }, { type: 'major' }]);
  });

  it('without gc (node run without --expose-gc): nothing runs, nothing is read, nothing throws', () => {
    delete global.gc;
    let read = 0;
    const check = collectAbove(1, () => (read += 1));
    const collect = collectEvery(1);
    expect(() => {
      check();
      collect(10);
    }).not.to.throw();
    expect(read).to.equal(0);
  });
});
