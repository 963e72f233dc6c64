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

  it('collectAbove: a full collection when the Buffers pass the limit; then only once they grow `slack` beyond what is live', () => {
    let buffers = 0;
    let left = 0;
    // A collection leaves what is live.
    global.gc = (options: unknown) => {
      calls.push(options);
      buffers = left;
    };
    const check = collectAbove(100, 50, () => buffers);
    const at = (value: number, live = value) => {
      buffers = value;
      left = live;
      check();
    };
    for (const value of [10, 100]) at(value);
    expect(calls, 'at or below the limit').to.deep.equal([]);
    at(101, 20);
    expect(calls, 'above it: collected, 20 left').to.have.length(1);
    at(100);
    expect(calls, 'the limit still holds when little is live').to.have.length(1);
    at(120, 110);
    expect(calls, 'above it again: collected, but 110 is live').to.have.length(2);
    for (const value of [130, 160]) at(value);
    expect(calls, 'live Buffers move the mark (110 + 50) instead of a collection at every block').to.have.length(2);
    at(161, 40);
    expect(calls).to.have.length(3);
    at(60);
    at(105);
    expect(calls, 'once less is live, the mark comes down again, not below the limit').to.have.length(4);
    expect(calls.every((call) => JSON.stringify(call) === '{"type":"major"}')).to.equal(true);
  });

  it('without gc (node run without --expose-gc): nothing runs, nothing is read, nothing throws', () => {
    delete global.gc;
    let read = 0;
    const check = collectAbove(1, 1, () => (read += 1));
    const collect = collectEvery(1);
    expect(() => {
      check();
      collect(10);
    }).not.to.throw();
    expect(read).to.equal(0);
  });
});
