import { expect } from 'chai';
import { sleepUnlessAborted, splayDelayMs } from '../src/splay.js';

describe('--splay delays', () => {
  it('is the same for the same host name, run after run', () => {
    expect(splayDelayMs('web-017.example.com', 600)).to.equal(splayDelayMs('web-017.example.com', 600));
  });

  it('lies in [0, SECONDS) and is 0 without a splay', () => {
    for (let i = 0; i < 1000; i += 1) {
      const delay = splayDelayMs(`host-${i}`, 600);
      expect(delay).to.be.at.least(0).and.below(600_000);
    }
    expect(splayDelayMs('web-017', 0)).to.equal(0);
  });

  it('spreads alike host names evenly: each tenth of the window gets 7-13% of 1,000 hosts', () => {
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i += 1)
      tenths[Math.floor(splayDelayMs(`web-${String(i).padStart(4, '0')}`, 600) / 60_000)]! += 1;
    for (const count of tenths) expect(count).to.be.within(70, 130);
  });

  it('sleepUnlessAborted resolves false as soon as the signal aborts', async () => {
    const stop = new AbortController();
    const sleeping = sleepUnlessAborted(3_600_000, stop.signal);
    stop.abort();
    expect(await sleeping).to.equal(false);
    expect(await sleepUnlessAborted(1, new AbortController().signal)).to.equal(true);
  });
});
