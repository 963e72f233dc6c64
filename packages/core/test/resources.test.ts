import { expect } from 'chai';
import { ResourceStack } from '../src/resources.js';

describe('the resource stack', () => {
  it('releases in the reverse order of taking, each with what it took', async () => {
    const released: string[] = [];
    const stack = new ResourceStack();
    expect(stack.use('lock', (name) => released.push(name))).to.equal('lock');
    stack.defer(() => released.push('signals'));
    stack.use('client', async (name) => {
      await Promise.resolve();
      released.push(name);
    });
    await stack.close();
    expect(released).to.deep.equal(['client', 'signals', 'lock']);
  });

  it('takes nothing for null or undefined (a lock not taken)', async () => {
    const stack = new ResourceStack();
    let called = false;
    expect(stack.use(null, () => (called = true))).to.equal(null);
    stack.use(undefined, () => (called = true));
    await stack.close();
    expect(called).to.equal(false);
  });

  it('releases everything when one release throws, then throws the first error', async () => {
    const released: string[] = [];
    const stack = new ResourceStack();
    stack.defer(() => released.push('first'));
    stack.defer(() => {
      throw new Error('second failed');
    });
    stack.defer(() => Promise.reject(new Error('third failed')));
    let error: unknown;
    await stack.close().catch((e: unknown) => (error = e));
    expect(released).to.deep.equal(['first']);
    expect(String(error)).to.equal('Error: third failed');
  });

  it('releases each thing once, however often it is closed', async () => {
    let count = 0;
    const stack = new ResourceStack();
    stack.defer(() => (count += 1));
    await stack.close();
    await stack.close();
    expect(count).to.equal(1);
  });
});
