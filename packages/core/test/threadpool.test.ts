import { expect } from 'chai';
import { sizeThreadpool, threadpoolSize } from '../src/threadpool.ts';

describe('threadpoolSize: UV_THREADPOOL_SIZE from --jobs', () => {
  const four = () => 4;
  it('is jobs + 2, at least 4, at most 1024', () => {
    expect(threadpoolSize(['--jobs', '8'], {}, four)).to.equal(10);
    expect(threadpoolSize(['--jobs', '1'], {}, four)).to.equal(4);
    expect(threadpoolSize(['--jobs', '2000'], {}, four)).to.equal(1024);
  });
  it('takes --jobs N and --jobs=N before LOGJAM_JOBS, and LOGJAM_JOBS before the default', () => {
    expect(threadpoolSize(['--once', '--jobs=6', 'dir'], { LOGJAM_JOBS: '12' }, four)).to.equal(8);
    expect(threadpoolSize(['dir'], { LOGJAM_JOBS: '12' }, four)).to.equal(14);
    expect(threadpoolSize(['dir'], {}, () => 16)).to.equal(18);
  });
  it('ignores what follows --, and falls back to the default for a bad value (the CLI reports it)', () => {
    expect(threadpoolSize(['--', '--jobs', '30'], {}, () => 6)).to.equal(8);
    expect(threadpoolSize(['--jobs', 'many'], {}, () => 6)).to.equal(8);
    expect(threadpoolSize(['--jobs', '0'], {}, () => 6)).to.equal(8);
  });
  it('leaves a UV_THREADPOOL_SIZE the user set alone', () => {
    const env: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '3' };
    sizeThreadpool(['--jobs', '8'], env, four);
    expect(env.UV_THREADPOOL_SIZE).to.equal('3');
    const unset: NodeJS.ProcessEnv = {};
    sizeThreadpool(['--jobs', '8'], unset, four);
    expect(unset.UV_THREADPOOL_SIZE).to.equal('10');
  });
});
