// The built binaries take Node's built-in modules with process.getBuiltinModule,
// never through an ES import: an ES import of one gets a facade that reads
// every export, and node:http's lazy getters then load undici (33 ms at every
// run that talks to S3 on Node 24; scripts/esbuild-builtins.mjs). A resolve
// hook, preloaded with --import, records every specifier that a file of ours
// (packages/*/bin/) imports, while each binary does a real pass.
import { promises as fs } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';
import { cleanupTmpDirs, repoRoot, resolveHookFile, runBin, tmpDir } from './support/index.ts';
import { S3RVER_KEY, S3RVER_SECRET, startS3, type TestS3 } from './support/s3.ts';

const BUCKET = 'logs';
const TEMPLATE = `s3://${BUCKET}/{prefix}/{year}/{month}/{day}/{filename}`;

describe('the binaries import no Node built-in as an ES module', function () {
  this.timeout(60_000);
  let s3: TestS3;
  let log: string;
  let env: Record<string, string>;
  before(async () => {
    s3 = await startS3({ buckets: [BUCKET] });
    const dir = await tmpDir();
    log = path.join(dir, 'imports.jsonl');
    const ours = `file://${path.join(repoRoot, 'packages')}/`;
    const resolver = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (parent.startsWith(${JSON.stringify(ours)}) && parent.includes('/bin/'))
    appendFileSync(${JSON.stringify(log)}, JSON.stringify({ specifier, parent }) + '\\n');
  return next(specifier, context);
}`;
    const hook = await resolveHookFile('record-imports.mjs', resolver);
    env = { NODE_OPTIONS: `--import ${hook}`, SENTRY_DSN: '' };
  });
  after(async () => {
    await s3.close();
    await cleanupTmpDirs();
  });
  beforeEach(() => fs.rm(log, { force: true }));

  const imported = async () =>
    (await fs.readFile(log, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { specifier: string }).specifier);

  it('logjam-upload, uploading: its program and the SDK chunks, and no built-in', async () => {
    const archive = path.join(await tmpDir(), 'archive');
    await fs.mkdir(archive);
    const name = 'app-20240102T0300Z.log.gz';
    await fs.writeFile(path.join(archive, name), 'the bytes of an archive\n');
    const r = await runBin('logjam-upload', ['--once', archive, TEMPLATE], {
      env: {
        ...env,
        AWS_ENDPOINT_URL: s3.endpoint,
        LOGJAM_FORCE_PATH_STYLE: '1',
        AWS_ACCESS_KEY_ID: S3RVER_KEY,
        AWS_SECRET_ACCESS_KEY: S3RVER_SECRET,
        AWS_REGION: 'us-east-1',
      },
    });
    expect(r.code, r.stderr).to.equal(0);
    expect((await s3.download(BUCKET, `app/2024/01/02/${name}`)).toString()).to.equal('the bytes of an archive\n');
    const specifiers = await imported();
    expect(specifiers).to.include('./logjam-upload.mjs');
    expect(specifiers.some((s) => /^\.\/sdk-[A-Z0-9]+\.mjs$/.test(s))).to.equal(true);
    expect(specifiers.filter((s) => isBuiltin(s))).to.deep.equal([]);
  });

  it('logjam-compress, compressing: its program, and no built-in', async () => {
    const dir = await tmpDir();
    const file = path.join(dir, 'app-20240102T0300Z.log');
    await fs.writeFile(file, 'a line\n');
    // Written long ago: a log modified within the last minute is left for a later pass.
    await fs.utimes(file, new Date('2024-01-02T04:00:00Z'), new Date('2024-01-02T04:00:00Z'));
    const r = await runBin('logjam-compress', ['--once', dir], { env });
    expect(r.code, r.stderr).to.equal(0);
    expect(await fs.readdir(path.join(dir, 'archive'))).to.include('app-20240102T0300Z.log.gz');
    const specifiers = await imported();
    expect(specifiers).to.include('./logjam-compress.mjs');
    expect(specifiers.filter((s) => isBuiltin(s))).to.deep.equal([]);
  });
});
