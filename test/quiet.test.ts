// Quiet when idle: a service's pass that found nothing to do says so at debug
// only, so that an idle host does not log a line per rescan (1,440 a day at
// the default --interval). Passes are counted by their debug lines, not by time.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, startBin, tmpDir, waitExit, waitFor } from './support/index.ts';
import { imdsEnv } from './support/imds.ts';
import { useS3AndImds } from './support/servers.ts';

type Child = ReturnType<typeof startBin>;
const PASSES = 4;

interface Record {
  level: string;
  msg: string;
}
const records = (stderr: string): Record[] =>
  stderr
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record);

/** Waits for `passes` idle passes (by their debug summaries), stops the service, and returns its records. */
async function idlePasses(child: Child, passes: number): Promise<Record[]> {
  await waitFor(() => records(child.output().stderr).filter((r) => r.msg === 'pass done').length >= passes, {
    timeoutMs: 30_000,
    what: `${passes} passes`,
  });
  child.kill('SIGTERM');
  const result = await waitExit(child, 20_000);
  expect(result.code, result.stderr).to.equal(0);
  return records(result.stderr);
}

/** What an operator sees at --log-level info: the records at info and above, but start and stop. */
const seenAtInfo = (all: Record[]) =>
  all.filter((r) => r.level !== 'debug' && r.msg !== 'stopped' && !r.msg.startsWith('received SIG'));

describe('services are quiet when idle (built binaries)', function () {
  this.timeout(60_000);
  const servers = useS3AndImds({ buckets: ['logs'] });
  const children: Child[] = [];
  afterEach(() => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  after(cleanupTmpDirs);

  it(`logjam-upload at --interval 1: ${PASSES} idle passes, nothing at info; the pass that uploads says so at info`, async () => {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    const args = [
      '--interval',
      '1',
      '--log-level',
      'debug',
      '--log-format',
      'json',
      '--endpoint-url',
      servers.s3.endpoint,
      '--force-path-style',
      dir,
      's3://logs/quiet/{prefix}/{year}/{month}/{day}/{filename}',
    ];
    const env = imdsEnv(servers.imds.endpoint, await tmpDir());
    const idle = startBin('logjam-upload', args, { cleanEnv: true, env });
    children.push(idle);
    const all = await idlePasses(idle, PASSES);
    expect(all.filter((r) => r.msg === 'pass done' && r.level === 'debug').length).to.be.at.least(PASSES);
    expect(seenAtInfo(all), JSON.stringify(all)).to.deep.equal([]);

    await fs.writeFile(path.join(dir, 'app-20240105T1300Z.log.gz'), 'x');
    const busy = startBin('logjam-upload', args, { cleanEnv: true, env });
    children.push(busy);
    const after = await idlePasses(busy, PASSES);
    const summaries = after.filter((r) => r.msg === 'pass done');
    expect(
      summaries.filter((r) => r.level === 'info'),
      'the pass that uploaded',
    ).to.have.length(1);
    expect(summaries.filter((r) => r.level === 'debug').length, 'the idle ones after it').to.be.at.least(PASSES - 1);
  });

  it(`logjam-compress at --interval 1: ${PASSES} idle passes, nothing at info`, async () => {
    const dir = await tmpDir();
    const child = startBin('logjam-compress', ['--interval', '1', '--log-level', 'debug', '--log-format', 'json', dir]);
    children.push(child);
    const all = await idlePasses(child, PASSES);
    expect(seenAtInfo(all), JSON.stringify(all)).to.deep.equal([]);
  });
});
