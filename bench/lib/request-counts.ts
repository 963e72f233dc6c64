// Requests per hourly run, counted by the test proxy in front of s3rver: a
// folder with 21 archives already uploaded and 3 new ones (three log types:
// app, db, web, each hour), as logjam-upload --once and `rclone copy` send
// them. Run by bench/run.mjs's fleet section:
//   node --import tsx bench/lib/request-counts.ts [RCLONE_BINARY]
// Prints one JSON line per tool: {tool, steady: {METHOD: n}, first: {...}}.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaries, compactStamp } from '../../test/support/index.ts';
import { startFaultProxy } from '../../test/support/proxy.ts';
import { s3rverEnv, startS3 } from '../../test/support/s3.ts';

const rclone = process.argv[2];
const HOUR = 3_600_000;
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'logjam-bench-requests-'));
const s3 = await startS3({ buckets: ['counts'] });
const day = Math.floor((Date.now() - 2 * 86_400_000) / 86_400_000) * 86_400_000;
const env = s3rverEnv(root);

/** Writes hours [from, to) of three log types into dir. */
async function archives(dir: string, from: number, to: number): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (let h = from; h < to; h += 1)
    for (const type of ['app', 'db', 'web'])
      await fs.writeFile(path.join(dir, `${type}-${compactStamp(day + h * HOUR)}.log.gz`), `${type} ${h}\n`);
}

/** Runs `command` for the first 7 hours (21 archives), then again after 1 more hour (3 new), counting the second run's requests. */
async function measure(
  tool: string,
  dir: string,
  command: (endpoint: string) => [string, string[], NodeJS.ProcessEnv],
): Promise<void> {
  const counts: Array<Record<string, number>> = [];
  for (const [from, to] of [
    [0, 7],
    [7, 8],
  ] as const) {
    await archives(dir, from, to);
    const proxy = await startFaultProxy({ target: s3.endpoint, conditionalWrites: true });
    const [cmd, args, extra] = command(proxy.endpoint);
    // Not spawnSync: the proxy and the store answer from this process's event loop.
    const child = spawn(cmd, args, { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`${tool} exited ${code}: ${stderr}`);
    counts.push({ ...proxy.stats.byMethod });
    await proxy.close();
  }
  process.stdout.write(`${JSON.stringify({ tool, first: counts[0], steady: counts[1] })}\n`);
}

try {
  // The proxy answers If-None-Match as S3 does: told so, logjam PUTs first, as against AWS (where no probe runs);
  // told the store has none (s3rver alone, old MinIO), it sends a HEAD before each PUT.
  for (const [tool, mode] of [
    ['logjam-upload --once (If-None-Match honoured, as AWS)', 'yes'],
    ['logjam-upload --once --conditional-writes no', 'no'],
  ] as const) {
    const dir = path.join(root, `logjam-${mode}`, 'archive');
    await measure(tool, dir, (endpoint) => [
      process.execPath,
      [
        binaries['logjam-upload'],
        '--once',
        '--log-level',
        'warn',
        '--conditional-writes',
        mode,
        '--endpoint-url',
        endpoint,
        '--force-path-style',
        dir,
        `s3://counts/logjam-${mode}/{prefix}/{year}/{month}/{day}/{filename}`,
      ],
      {},
    ]);
  }
  if (rclone) {
    await measure('rclone copy', path.join(root, 'rclone'), (endpoint) => [
      rclone,
      ['copy', path.join(root, 'rclone'), 'bench:counts/rclone/'],
      {
        RCLONE_CONFIG: path.join(root, 'none.conf'),
        RCLONE_CONFIG_BENCH_TYPE: 's3',
        RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
        RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
        RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: 'S3RVER',
        RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: 'S3RVER',
        RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
        RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
      },
    ]);
  }
} finally {
  await s3.close();
  await fs.rm(root, { recursive: true, force: true });
}
