// A fleet stampede, bounded for CI: hosts started together against a front
// that throttles as S3 does (a token bucket per key prefix, 503 SlowDown
// beyond it), all archives under one key prefix. With the defaults nothing is
// lost, nothing is written twice, and every archive is in S3 after at most two
// runs. The full simulation (40 hosts, with and without --splay, both retry
// modes) is `npm run bench -- --only fleet`.
import { expect } from 'chai';
import { figures } from '../support/figures.ts';
import { Fleet } from '../support/fleet.ts';
import { imdsEnv } from '../support/imds.ts';
import { cleanupTmpDirs, tmpDir } from '../support/index.ts';
import { useS3AndImds } from '../support/servers.ts';

const BUCKET = 'fleet';

describe('reliability: a fleet stampede against S3-like throttling', function () {
  this.timeout(300_000);
  const servers = useS3AndImds({ buckets: [BUCKET] });
  after(cleanupTmpDirs);

  it('8 hosts x 6 archives reaching S3 in the same instant at 8 requests/s per prefix (8 s of capacity, as S3 has for 10,000 hosts): 503s received, nothing lost or doubled, all uploaded within two runs', async () => {
    const home = await tmpDir('logjam-home-');
    const fleet = new Fleet({
      root: await tmpDir('logjam-fleet-'),
      s3: servers.s3,
      bucket: BUCKET,
      hosts: 8,
      archives: 6,
      perSecond: 8,
      env: imdsEnv(servers.imds.endpoint, home),
    });
    await fleet.prepare('stampede');
    const first = await fleet.run({ tag: 'stampede', args: [], together: true });
    // The stampede was real: the front refused requests.
    expect(first.stats.throttled, 'SlowDown answers').to.be.greaterThan(0);
    // A host that did not finish says why: throttling, with its files left for the next run.
    for (const host of first.notOk) {
      expect(host.code, host.stderr).to.equal(1);
      expect(host.stderr, host.stderr).to.match(/SlowDown/);
    }
    const second = first.notOk.length
      ? await fleet.run({ tag: 'stampede', args: [], together: true, only: first.notOk.map((h) => h.host) })
      : undefined;
    expect(second?.notOk ?? [], 'hosts still not done after a second run').to.deep.equal([]);
    const landed = await fleet.check('stampede');
    expect({
      missing: landed.missing,
      extra: landed.extra,
      corrupt: landed.corrupt,
      identical: landed.identical,
    }).to.deep.equal({ missing: [], extra: [], corrupt: [], identical: 48 });
    figures.bytesVerified += 48 * 4096;
  });
});
