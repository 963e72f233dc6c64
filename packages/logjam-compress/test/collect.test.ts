import { expect } from 'chai';
import { PerformanceObserver } from 'node:perf_hooks';
import vm from 'node:vm';
import { collectAbove, collectEvery, exposedGc, type Gc } from '../src/collect.ts';

describe('collect.ts (collections of its own)', () => {
  let calls: unknown[];
  let gc: Gc;
  beforeEach(() => {
    calls = [];
    gc = (options) => void calls.push(options);
  });

  it("exposedGc: V8's gc without --expose-gc on the command line, which stays off for every other context", async () => {
    expect(process.execArgv, 'this test means something only without the flag').not.to.include('--expose-gc');
    const real = exposedGc();
    expect(real).to.be.a('function');
    expect(exposedGc(), 'taken once').to.equal(real);
    expect(vm.runInNewContext('typeof gc'), 'a context made after it has no gc: the flag is off again').to.equal(
      'undefined',
    );
    const collections: string[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) collections.push(entry.name);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      real!({ type: 'major' });
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      observer.disconnect();
    }
    expect(collections, 'it collects').to.have.length.above(0);
  });

  it('collectEvery: a young-generation collection each time `every` more bytes have passed', () => {
    const collect = collectEvery(100, gc);
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
    gc = (options) => {
      calls.push(options);
      buffers = left;
    };
    const check = collectAbove(100, 50, () => buffers, gc);
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

  it('without gc (where it cannot be had): nothing runs, nothing is read, nothing throws', () => {
    let read = 0;
    const check = collectAbove(1, 1, () => (read += 1), null);
    const collect = collectEvery(1, null);
    expect(() => {
      check();
      collect(10);
    }).not.to.throw();
    expect(read).to.equal(0);
  });
});
