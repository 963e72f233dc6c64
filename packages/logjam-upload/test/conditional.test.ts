// What conditional.ts decides: when to probe the store, what its answers
// show, and when a promise of --conditional-writes is contradicted.
import { expect } from 'chai';
import { choose, contradiction, judgeProbe, probeKey } from '../src/conditional.ts';

const ENDPOINT = 'http://127.0.0.1:9000';

describe('the probe and what it decides (conditional.ts, pure)', () => {
  it('judges the store by its answers: a write landing onto the taken probe key ignored If-None-Match', () => {
    expect(judgeProbe({ first: 'written', second: 'refused', complete: 'refused' })).to.deep.equal({ put: true, complete: true });
    expect(judgeProbe({ first: 'written', second: 'refused', complete: 'written' })).to.deep.equal({ put: true, complete: false });
    expect(judgeProbe({ first: 'written', second: 'written', complete: 'written' })).to.deep.equal({ put: false, complete: false });
    expect(judgeProbe({ first: 'written', second: 'unsupported', complete: 'unsupported' })).to.deep.equal({ put: false, complete: false });
    expect(judgeProbe({ first: 'unsupported' })).to.deep.equal({ put: false, complete: false });
    // An earlier (killed) probe's object held the key: only a store that honours If-None-Match refuses.
    expect(judgeProbe({ first: 'refused', complete: 'refused' })).to.deep.equal({ put: true, complete: true });
  });

  it('probes a custom endpoint unless a fresh probe answers; trusts AWS and --conditional-writes no', () => {
    const honoured = { writes: { put: true, complete: true } };
    const putOnly = { writes: { put: true, complete: false } };
    expect(choose('auto', ENDPOINT, false, undefined)).to.deep.equal({ probe: 'conditional' });
    expect(choose('auto', ENDPOINT, false, putOnly)).to.deep.equal({ writes: putOnly.writes });
    expect(choose('auto', undefined, false, undefined)).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('auto', undefined, true, undefined)).to.deep.equal({ probe: 'settings', writes: { put: true, complete: true } });
    expect(choose('auto', undefined, true, {})).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('no', ENDPOINT, false, undefined)).to.deep.equal({ writes: { put: false, complete: false } });
    expect(choose('yes', undefined, false, undefined)).to.deep.equal({ writes: { put: true, complete: true } });
    // A promise on a custom endpoint is verified, and a probe that found less is asked again.
    expect(choose('yes', ENDPOINT, false, undefined)).to.deep.equal({ probe: 'conditional' });
    expect(choose('yes', ENDPOINT, false, honoured)).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('yes', ENDPOINT, false, putOnly)).to.deep.equal({ probe: 'conditional' });
    expect(choose('put-only', ENDPOINT, false, putOnly)).to.deep.equal({ writes: { put: true, complete: false } });
    expect(choose('put-only', ENDPOINT, false, { writes: { put: false, complete: false } })).to.deep.equal({ probe: 'conditional' });
  });

  it('a store doing less than --conditional-writes said is a configuration error naming the option and what to say instead', () => {
    const none = { put: false, complete: false };
    const putOnly = { put: true, complete: false };
    expect(contradiction('yes', none, ENDPOINT, 'k')?.message).to.match(/^--conditional-writes yes: .* on PutObject .*use --conditional-writes no or auto/);
    expect(contradiction('yes', putOnly, ENDPOINT, 'k')?.message).to.match(/^--conditional-writes yes: .* on CompleteMultipartUpload .*use --conditional-writes put-only or auto/);
    expect(contradiction('put-only', none, ENDPOINT, 'k')?.message).to.match(/^--conditional-writes put-only: .* on PutObject/);
    expect(contradiction('put-only', putOnly, ENDPOINT, 'k')).to.equal(null);
    expect(contradiction('auto', none, ENDPOINT, 'k')).to.equal(null);
  });

  it('one probe key per host and archive folder, under the template folder', () => {
    const a = probeKey('logs/', { hostname: 'web1', archiveDir: '/var/log/hourly/archive' });
    expect(a).to.match(/^logs\/\.logjam-probe\/web1-[0-9a-f]{8}$/);
    expect(probeKey('logs/', { hostname: 'web1', archiveDir: '/var/log/hourly/archive' })).to.equal(a);
    expect(probeKey('logs/', { hostname: 'web1', archiveDir: '/srv/app/archive' })).not.to.equal(a);
    expect(probeKey('', { hostname: 'a b/c', archiveDir: '/x/archive' })).to.match(/^\.logjam-probe\/a_b_c-/);
  });
});
