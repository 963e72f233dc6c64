import { expect } from 'chai';
import { eachLimit, runWorkers } from '../src/pool.js';

/** Work that waits a turn of the event loop, noting how many run at once. */
function gauge() {
  const seen = { now: 0, most: 0, done: [] as number[] };
  const work = async (item: number) => {
    seen.now += 1;
    seen.most = Math.max(seen.most, seen.now);
    await new Promise((resolve) => setImmediate(resolve));
    seen.done.push(item);
    seen.now -= 1;
  };
  return { seen, work };
}

describe('the worker pool', () => {
  it('runs every item, at most `limit` at once', async () => {
    const { seen, work } = gauge();
    await eachLimit([1, 2, 3, 4, 5, 6, 7], 3, new AbortController().signal, work);
    expect([...seen.done].sort()).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.most).to.equal(3);
  });

  it('starts nothing new once the signal aborts', async () => {
    const stop = new AbortController();
    const started: number[] = [];
    await eachLimit([1, 2, 3, 4], 2, stop.signal, async (item) => {
      started.push(item);
      await Promise.resolve();
      stop.abort();
    });
    // Both workers started one before the first stopped them.
    expect(started).to.deep.equal([1, 2]);
  });

  it('takes items until `next` gives none, with one worker at least', async () => {
    const queue = [1, 2, 3];
    const { seen, work } = gauge();
    await runWorkers(0, () => queue.shift(), work);
    expect(seen.done).to.deep.equal([1, 2, 3]);
    expect(seen.most).to.equal(1);
  });
});
