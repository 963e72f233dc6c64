// Fields in the bucket name, as the Python tool rendered them
// (s3://logs-{prefix}/...): each file goes to its own bucket; a bucket that
// does not exist fails only its files (exit 1), or the run (exit 2) when it
// is the only one. Every pass summary accounts for every pending file. The
// built binary against s3rver.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, exists, passCounts, runBin, tmpDir } from './support/index.ts';
import { S3RVER_KEY, S3RVER_SECRET, startS3, type TestS3 } from './support/s3.ts';

const TEMPLATE = 's3://logs-{prefix}/{year:04d}/{month!s}/{day}/{filename}';

describe('fields in the bucket name (one bucket per log)', function () {
  this.timeout(60_000);
  let s3: TestS3;
  before(async () => {
    s3 = await startS3({ buckets: ['logs-app', 'logs-web'] });
  });
  after(async () => {
    await s3.close();
    await cleanupTmpDirs();
  });
  const env = () => ({
    AWS_ENDPOINT_URL: s3.endpoint,
    LOGJAM_FORCE_PATH_STYLE: '1',
    AWS_ACCESS_KEY_ID: S3RVER_KEY,
    AWS_SECRET_ACCESS_KEY: S3RVER_SECRET,
    AWS_REGION: 'us-east-1',
  });
  async function archive(names: string[]): Promise<string> {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    for (const name of names) await fs.writeFile(path.join(dir, name), `${name}\n`);
    return dir;
  }

  it('uploads each file to its own bucket; a missing bucket fails only its files (exit 1)', async () => {
    const dir = await archive([
      'app-20240105T1300Z.log.gz',
      'web-20240105T1300Z.log.gz',
      'gone-20240105T1300Z.log.gz',
      'Bad_-20240105T1300Z.log.gz',
    ]);
    const r = await runBin('logjam-upload', ['--once', dir, TEMPLATE], { env: env(), cleanEnv: true });
    expect(r.code, r.stderr).to.equal(1);
    expect((await s3.download('logs-app', '2024/01/05/app-20240105T1300Z.log.gz')).toString()).to.equal(
      'app-20240105T1300Z.log.gz\n',
    );
    expect((await s3.download('logs-web', '2024/01/05/web-20240105T1300Z.log.gz')).toString()).to.equal(
      'web-20240105T1300Z.log.gz\n',
    );
    expect(r.stderr).to.match(/ERROR bucket 'logs-gone' does not exist.*: its files fail until it exists/);
    expect(r.stderr).to.match(/ERROR upload failed; will retry on the next run file=gone-20240105T1300Z.log.gz/);
    expect(r.stderr).to.match(
      /ERROR upload failed; will retry on the next run file=Bad_-20240105T1300Z.log.gz error=.*'logs-Bad_', is not a valid bucket name/,
    );
    expect(passCounts(r.stderr)).to.include({ pending: 4, uploaded: 2, failed: 2 });
    expect(await exists(path.join(dir, '.uploaded', 'gone-20240105T1300Z.log.gz'))).to.equal(false);
  });

  it('exits 2 when the only bucket the pending files go to does not exist', async () => {
    const dir = await archive(['gone-20240105T1300Z.log.gz']);
    const r = await runBin('logjam-upload', ['--once', dir, TEMPLATE], { env: env(), cleanEnv: true });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.match(/bucket 'logs-gone' does not exist/);
  });
});
