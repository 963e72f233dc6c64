// logjam-upload loads the AWS SDK only when it is about to talk to S3: --help,
// --check, --dry-run and a bad command line run with the SDK unresolvable.
// The SDK is bundled into chunks beside the program (bin/sdk-<hash>.mjs), so
// the hook refuses those as well as any @aws-sdk/* or @smithy/* package.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { binaries, cleanupTmpDirs, resolveHookFile, runBin, tmpDir } from './support/index.ts';

const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';

describe('logjam-upload start-up: the AWS SDK is loaded lazily', () => {
  let env: Record<string, string>;
  let archive: string;
  before(async () => {
    // A module resolution hook, preloaded with --import, that fails any import of the SDK.
    const hook = await resolveHookFile(
      'no-sdk.mjs',
      `export async function resolve(specifier, context, next) { if (/^@(aws-sdk|smithy)\\//.test(specifier) || /(^|\\/)sdk-[A-Z0-9]+\\.mjs$/.test(specifier)) throw new Error('the AWS SDK was loaded: ' + specifier); return next(specifier, context); }`,
    );
    env = { NODE_OPTIONS: `--import ${hook}`, SENTRY_DSN: '' };
    archive = path.join(await tmpDir(), 'archive');
    await fs.mkdir(archive);
    await fs.writeFile(path.join(archive, 'app-20240102T0300Z.log.gz'), 'x');
  });
  after(cleanupTmpDirs);

  it('the bundle imports the SDK chunks only with dynamic imports, and no SDK package at all', async () => {
    const text = await fs.readFile(binaries['logjam-upload'].replace(/\.cjs$/, '.mjs'), 'utf8');
    expect(text).to.match(/import\("\.\/sdk-[A-Z0-9]+\.mjs"\)/);
    expect(text).not.to.match(/(^|\n)\s*import\s[^;(]*["']\.\/sdk-/);
    expect(text).not.to.match(/(import\s*\(|from)\s*["']@(aws-sdk|smithy)\//);
  });

  it('--help, --check, --dry-run and a usage error never load it', async () => {
    const help = await runBin('logjam-upload', ['--help'], { env });
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.include('--once');
    const check = await runBin('logjam-upload', ['--check', archive, TEMPLATE], { env });
    expect(check.code, check.stderr).to.equal(0);
    expect(check.stdout).to.include('app-20240102T0300Z.log.gz');
    const dry = await runBin('logjam-upload', ['--dry-run', archive, TEMPLATE], { env });
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.include('s3://logs/app/2024/01/02/app-20240102T0300Z.log.gz');
    const usage = await runBin('logjam-upload', ['--once', '--jobs', 'many', archive, TEMPLATE], { env });
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include('--jobs');
    expect(usage.stderr + usage.stdout).not.to.include('the AWS SDK was loaded');
  });

  it('a pass that talks to S3 does load it (the hook works)', async () => {
    const once = await runBin('logjam-upload', ['--once', '--endpoint-url', 'http://127.0.0.1:9', archive, TEMPLATE], {
      env: { ...env, AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_REGION: 'us-east-1' },
    });
    expect(once.code).to.not.equal(0);
    expect(once.stderr).to.include('the AWS SDK was loaded');
  });
});
