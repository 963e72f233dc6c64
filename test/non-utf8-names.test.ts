// A log whose name is not valid UTF-8 (written under a Latin-1 locale) is
// shipped like any other, never skipped: compressed under its own bytes +
// .gz, uploaded under the rendered key with each odd byte as %XX, marked
// under its own bytes, counted by --dry-run, --check and the metrics, and
// left alone by a second pass. The built binaries against s3rver.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { cleanupTmpDirs, passCounts, runBin, STORE_PROFILE, tmpDir } from './support/index.ts';
import { S3RVER_KEY, S3RVER_SECRET, startS3, type TestS3 } from './support/s3.ts';

const LATIN1 = Buffer.from('caf\xe9-20240305T0700Z-i-9.log', 'latin1');
const SHOWN = 'caf%E9-20240305T0700Z-i-9.log';
const KEY = 'caf%E9/2024/03/05/caf%E9-20240305T0700Z-i-9.log.gz';
const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';
const CONTENT = 'GET /caf\xe9 200\n'.repeat(50);

/** `dir/` + raw bytes, for the file system. */
const at = (dir: string, ...names: Buffer[]) => Buffer.concat([Buffer.from(`${dir}/`), ...names]);

describe('a log file whose name is not UTF-8, end to end', function () {
  this.timeout(120_000);
  let s3: TestS3;
  let logDir: string;
  let archiveDir: string;
  let metrics: string;
  before(async () => {
    s3 = await startS3({ buckets: ['logs'] });
    logDir = await tmpDir();
    archiveDir = path.join(logDir, 'archive');
    metrics = path.join(await tmpDir(), 'upload.prom');
    await fs.writeFile(at(logDir, LATIN1), CONTENT, 'latin1');
    const old = new Date('2024-03-05T08:00:00Z');
    await fs.utimes(at(logDir, LATIN1), old, old);
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
  const upload = (args: string[]) =>
    runBin('logjam-upload', [...args, archiveDir, TEMPLATE], { env: env(), cleanEnv: true });

  it('logjam-compress --check counts it as due, naming it with %XX', async () => {
    const r = await runBin('logjam-compress', ['--check', '--max-age', '1h', logDir]);
    expect(r.code, r.stdout).to.equal(1);
    expect(r.stdout).to.include(SHOWN);
  });

  it('logjam-compress archives it under its own bytes + .gz, and deletes the source', async () => {
    const r = await runBin('logjam-compress', ['--once', logDir]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr)
      .to.include(SHOWN)
      .and.to.match(/pass done compressed=1 /);
    const gz = await fs.readFile(at(archiveDir, LATIN1, Buffer.from('.gz')));
    expect(gunzipSync(gz).toString('latin1')).to.equal(CONTENT);
    expect(await fs.readdir(logDir, { encoding: 'buffer' })).to.deep.equal([Buffer.from('archive')]);
  });

  it('logjam-upload --check and --dry-run count it as waiting, shown with %XX', async () => {
    const check = await upload(['--check', '--max-age', '1h']);
    expect(check.code, check.stdout).to.equal(1);
    expect(check.stdout).to.include(`${SHOWN}.gz`);
    const dry = await upload(['--dry-run']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.equal(`${path.join(archiveDir, `${SHOWN}.gz`)} -> s3://logs/${KEY}\n`);
  });

  it('logjam-upload uploads it under the key with %XX, byte for byte, and writes its marker under its own bytes', async () => {
    const r = await upload(['--once', '--metrics-file', metrics]);
    expect(r.code, r.stderr).to.equal(0);
    expect(passCounts(r.stderr)).to.include({ pending: 1, uploaded: 1 });
    expect(r.stderr).to.include(`uri=s3://logs/${KEY}`);
    expect(
      (await s3.download('logs', KEY)).equals(await fs.readFile(at(archiveDir, LATIN1, Buffer.from('.gz')))),
    ).to.equal(true);
    const markers = (await fs.readdir(path.join(archiveDir, '.uploaded'), { encoding: 'buffer' })).filter(
      (name) => name.toString() !== STORE_PROFILE,
    );
    expect(markers).to.deep.equal([Buffer.concat([LATIN1, Buffer.from('.gz')])]);
    expect(await fs.readFile(metrics, 'utf8'))
      .to.match(/^logjam_upload_files_total 1$/m)
      .and.match(/^logjam_upload_backlog_files 0$/m);
  });

  it('then --check is OK, and a second pass uploads nothing', async () => {
    const check = await upload(['--check']);
    expect(check.code, check.stdout).to.equal(0);
    expect(check.stdout).not.to.include(SHOWN);
    s3.requests.length = 0;
    const again = await upload(['--once']);
    expect(again.code, again.stderr).to.equal(0);
    expect(passCounts(again.stderr)).to.include({ pending: 0, uploaded: 0 });
    expect(s3.writes()).to.deep.equal([]);
  });
});
