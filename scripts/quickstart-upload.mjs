// The upload stage of the quick start: a local S3-compatible server (s3rver,
// a devDependency) on 127.0.0.1 at a free port, the built `logjam-upload --once`
// run against it with credentials in its environment, and the uploaded keys
// printed. scripts/quickstart.mjs calls uploadStage after the compress stage;
// on its own: node scripts/quickstart-upload.mjs /path/to/archive
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const uploadBin = path.join(repoRoot, 'packages/logjam-upload/bin/logjam-upload.cjs');
const BUCKET = 'logjam-quickstart';
const TEMPLATE = `s3://${BUCKET}/{hostname}/{prefix}/{year}/{month}/{day}/{filename}`;

/**
 * Uploads `archiveDir` (a folder named `archive`) to a throw-away local S3 and
 * prints the keys. Resolves with logjam-upload's exit code and the keys.
 * @param {{ archiveDir: string, log?: (line: string) => void }} options
 * @returns {Promise<{ exitCode: number, keys: string[] }>}
 */
export async function uploadStage({ archiveDir, log = (line) => console.log(line) }) {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'logjam-quickstart-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  });
  await server.run();
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.httpServer.address());
  const endpoint = `http://127.0.0.1:${port}`;
  // Only the SDK's "Node 20 support ends" notice, not for a quick start's output.
  const quiet = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  if (quiet === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = quiet;
  try {
    log(`local S3 (s3rver) at ${endpoint}, bucket ${BUCKET}`);
    const args = ['--once', '--force-path-style', archiveDir, TEMPLATE];
    log(`$ logjam-upload ${args.map((a) => (/[{}\s]/.test(a) ? `'${a}'` : a)).join(' ')}`);
    const exitCode = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [uploadBin, ...args], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: {
          ...process.env,
          // s3rver's built-in account; the endpoint through the standard variable.
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_S3: endpoint,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const keys = (listed.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key])).sort();
    log(`logjam-upload exited ${exitCode}; ${keys.length} object(s) in s3://${BUCKET}/:`);
    for (const key of keys) log(`  s3://${BUCKET}/${key}`);
    return { exitCode, keys };
  } finally {
    client.destroy();
    server.httpServer.closeAllConnections();
    await server.close();
    await fs.rm(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const archiveDir = process.argv[2];
  if (!archiveDir) {
    console.error('usage: node scripts/quickstart-upload.mjs ARCHIVE_DIR');
    process.exit(2);
  }
  const { exitCode } = await uploadStage({ archiveDir });
  process.exit(exitCode);
}
