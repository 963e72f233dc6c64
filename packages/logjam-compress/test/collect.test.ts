import { expect } from 'chai';
import { collectEvery } from '../src/collect.ts';

describe('collectEvery (a collection every so many bytes, when gc is exposed)', () => {
  const global = globalThis as { gc?: unknown };
  let saved: unknown;
  beforeEach(() => (saved = global.gc));
  afterEach(() => {
    if (saved === undefined) delete global.gc;
    else global.gc = saved;
  });

  it('runs gc of the type asked once each time `every` more bytes have passed', () => {
    const calls: unknown[] = [];
    global.gc = (options: unknown) => void calls.push(options);
    const collect = collectEvery(100, 'major');
    for (const bytes of [40, 40]) collect(bytes);
    expect(calls, 'after 80 bytes').to.deep.equal([]);
    collect(40);
    expect(calls, 'after 120 bytes').to.deep.equal([{ type: 'major' }]);
    for (const bytes of [60, 30]) collect(bytes);
    expect(calls, 'the count starts again after a collection').to.have.length(1);
    collect(10);
    expect(calls).to.deep.equal([{ type: 'major' }, { type: 'major' }]);
  });

  it('without gc (node run without --expose-gc), counts nothing and throws nothing', () => {
    delete global.gc;
    const collect = collectEvery(1, 'minor');
    expect(() => collect(10)).not.to.throw();
  });
});
