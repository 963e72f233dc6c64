// Crash safety: logjam-compress and logjam-upload run as services (as
// systemd runs them) while hourly log files keep appearing, and each is
// killed with SIGKILL at random moments, then restarted, again and again.
// In the end every line written must be in S3 exactly once, intact.
//
// s3rver stands in for S3 behind the test proxy, which makes its writes
// atomic and honours If-None-Match as S3 does (see test/support/proxy.ts);
// credentials come from the fake instance-metadata service.
//
// The proof that every crash point is survived is crash-points.test.ts (each
// protocol call killed in turn); this test adds what enumeration of one binary
// at a time cannot: both services at once, new files arriving, kills landing
// wherever the clock says. Nobody else writes, so no conflict or
// duplicate-timestamp copy may appear.
//
// CI runs a bounded number of kills; SOAK=1 (npm run soak) runs hundreds.
// KILLS=N overrides the number; SEED=N replays a run (the seed is printed
// with any failure).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { cleanupTmpDirs, exists, ls, runBin, startBin, tmpDir, waitExit } from '../support/index.ts';
import { figures } from '../support/figures.ts';
import { imdsEnv } from '../support/imds.ts';
import { prng, startFaultProxy, type FaultProxy } from '../support/proxy.ts';
import { isProbeKey } from '../support/s3.ts';
import { useS3AndImds } from '../support/servers.ts';

const BUCKET = 'logs';
const PREFIX = 'crash';
const SOAK = process.env.SOAK === '1';
const KILLS = Number(process.env.KILLS) || (SOAK ? 300 : 36);
const SEED = Number(process.env.SEED) || Math.floor(Math.random() * 2 ** 31);
/** Files this large (gzipped) go multipart; the big logs are made bigger than this. */
const MULTIPART = '5M';

type Child = ReturnType<typeof startBin>;

/** One line of a log: its file name, its number, and a payload derived from both (so any corruption shows). */
function line(name: string, n: number, big: boolean): string {
  const key = `${name}:${n}`;
  const payload = big
    ? createHash('sha512').update(key).digest('base64') + createHash('sha256').update(key).digest('base64')
    : createHash('sha256').update(key).digest('hex');
  return `${name} ${n} ${payload}\n`;
}

interface Written {
  name: string;
  lines: number;
  big: boolean;
}

function content(file: Written): Buffer {
  const parts: string[] = [];
  for (let n = 0; n < file.lines; n += 1) parts.push(line(file.name, n, file.big));
  return Buffer.from(parts.join(''));
}

/** The file name an object's key holds content of, and whether it is a conflict or duplicate-timestamp copy. */
function sourceOf(key: string): { name: string; extra: boolean } {
  let base = key.slice(key.lastIndexOf('/') + 1);
  let extra = false;
  const conflict = /-logjam-upload-conflict-\d\d(?=-\d{8}T)/;
  const duplicate = /-logjam-compress-duplicate-timestamp(?:-\d\d)?(?=-\d{8}T)/;
  if (conflict.test(base)) {
    base = base.replace(conflict, '');
    extra = true;
  }
  if (duplicate.test(base)) {
    base = base.replace(duplicate, '');
    extra = true;
  }
  return { name: base.replace(/\.gz$/, ''), extra };
}

describe('crash safety: SIGKILL at random moments, every line in S3 exactly once', function () {
  this.timeout(SOAK ? 3_600_000 : 180_000);
  const servers = useS3AndImds({ buckets: [BUCKET] });
  let proxy: FaultProxy;
  const children = new Set<Child>();

  before(async () => {
    // A little latency on parts makes a multipart upload last long enough for kills to land in it.
    proxy = await startFaultProxy({
      target: servers.s3.endpoint,
      conditionalWrites: true,
      latencyMs: (req) => (req.url?.includes('partNumber=') ? 150 : 0),
    });
  });
  afterEach(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([...children].map((child) => waitExit(child, 10_000).catch(() => {})));
    children.clear();
  });
  after(async () => {
    await proxy?.close();
    await cleanupTmpDirs();
  });

  it('a run killed mid-marker write: the next run removes the temporary marker file it left, and uploads', async () => {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(path.join(dir, '.uploaded'), { recursive: true });
    await fs.writeFile(path.join(dir, 'app-20240105T1300Z.log.gz'), 'x');
    // What SIGKILL between the marker temp file's creation and its rename leaves behind.
    const left = '.logjam-write.4242.0123456789ab.tmp';
    await fs.writeFile(path.join(dir, '.uploaded', left), '');
    const home = await tmpDir('logjam-home-');
    const result = await runBin(
      'logjam-upload',
      [
        '--once',
        '--endpoint-url',
        proxy.endpoint,
        '--force-path-style',
        dir,
        `s3://${BUCKET}/marker-temp/{prefix}/{year}/{month}/{day}/{filename}`,
      ],
      {
        cleanEnv: true,
        env: imdsEnv(servers.imds.endpoint, home),
      },
    );
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.include(
      `removed a temporary file left by an interrupted run file=${path.join(dir, '.uploaded', left)}`,
    );
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(['app-20240105T1300Z.log.gz']);
    expect(await exists(path.join(dir, '.uploaded', left))).to.equal(false);
  });

  it(`survives ${KILLS} kills of both services (seed printed on failure)`, async () => {
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const work = await tmpDir('logjam-crash-');
    const logDir = path.join(work, 'logs');
    const archiveDir = path.join(logDir, 'archive');
    await fs.mkdir(archiveDir, { recursive: true });
    const home = await tmpDir('logjam-home-');
    const template = `s3://${BUCKET}/${PREFIX}/{prefix}/{year}/{month}/{day}/{filename}`;
    const uploadEnv = imdsEnv(servers.imds.endpoint, home);
    const compressArgs = ['--min-age', '0', '--interval', '1', '--jobs', '2', logDir];
    const uploadArgs = [
      '--interval',
      '1',
      '--jobs',
      '2',
      '--multipart-threshold',
      MULTIPART,
      '--delete-uploaded-after',
      '1s',
      '--endpoint-url',
      proxy.endpoint,
      '--force-path-style',
      archiveDir,
      template,
    ];
    const context = () => `seed ${SEED} (replay: SEED=${SEED} KILLS=${KILLS} npx mocha test/reliability/crash.test.ts)`;

    // Hourly logs: two prefixes, two hosts; each group's hours go on from 2024-01-01.
    const written = new Map<string, Written>();
    const nextHour = new Map<string, number>();
    let bigCount = 0;
    const writeLog = async (big = false) => {
      const group = `${pick(['app', 'db'])}|${pick(['web1', 'web2'])}`;
      const hour = nextHour.get(group) ?? 0;
      nextHour.set(group, hour + 1);
      const [prefix, host] = group.split('|');
      const stamp =
        new Date(Date.UTC(2024, 0, 1) + hour * 3_600_000).toISOString().replace(/[-:]/g, '').slice(0, 11) + '00Z';
      const file: Written = {
        name: `${prefix}-${stamp}-${host}.log`,
        lines: big ? 55_000 : 50 + Math.floor(random() * 3000),
        big,
      };
      if (big) bigCount += 1;
      written.set(file.name, file);
      // As a logger closing its hour: the whole file appears under its name at once.
      const tmp = path.join(logDir, `.writing-${file.name}`);
      await fs.writeFile(tmp, content(file));
      await fs.rename(tmp, path.join(logDir, file.name));
    };
    for (let i = 0; i < 10; i += 1) await writeLog();
    await writeLog(true);

    const start = {
      compress: () => startBin('logjam-compress', compressArgs),
      upload: () => startBin('logjam-upload', uploadArgs, { cleanEnv: true, env: uploadEnv }),
    };
    const running: Record<'compress' | 'upload', Child> = { compress: start.compress(), upload: start.upload() };
    for (const child of Object.values(running)) children.add(child);

    // Where each kill landed, as far as can be seen from outside.
    const landed: Record<string, number> = {};
    const count = (what: string) => (landed[what] = (landed[what] ?? 0) + 1);
    const archivesSeen = new Set<string>();
    let kills = 0;
    try {
      for (let k = 0; k < KILLS; k += 1) {
        const victim = random() < 0.5 ? 'compress' : 'upload';
        // Mostly short delays (start-up and the first files), some long ones (mid-pass, idle).
        const delay = pick([30, 80, 150, 250, 400, 600, 900, 1300]) + Math.floor(random() * 100);
        await new Promise((resolve) => setTimeout(resolve, delay));
        const inFlight = proxy.inFlight();
        const child = running[victim];
        const alive = child.exitCode === null && child.signalCode === null;
        child.kill('SIGKILL');
        const result = await waitExit(child, 10_000);
        children.delete(child);
        if (alive) kills += 1;
        else
          expect.fail(
            `${victim} had exited by itself (code ${result.code}): ${result.stderr.slice(-2000)}\n${context()}`,
          );

        const names = await ls(archiveDir);
        if (victim === 'compress') {
          const temps = names.filter((n) => /^\.logjam-compress\..*\.tmp$/.test(n)).length;
          const sources = new Set(await ls(logDir));
          const published = names.filter((n) => n.endsWith('.gz') && sources.has(n.slice(0, -3))).length;
          if (temps) count('compress: mid-gzip (temp file left)');
          if (published) count('compress: archive published, source not yet deleted');
          if (!temps && !published) count('compress: between files / idle / starting');
        } else {
          const markers = new Set(await ls(path.join(archiveDir, '.uploaded')).catch(() => [] as string[]));
          const markerTemps = [...markers].filter((n) => n.startsWith('.')).length;
          const parts = inFlight.filter(
            (r) => r.url.includes('uploadId=') || (r.method === 'POST' && r.url.includes('uploads')),
          ).length;
          const puts = inFlight.filter((r) => r.method === 'PUT' && !r.url.includes('uploadId=')).length;
          if (parts) count('upload: mid-multipart');
          if (puts) count('upload: mid-PUT');
          if (markerTemps) count('upload: mid-marker write');
          let unmarked = 0;
          for (const name of names.filter((n) => n.endsWith('.gz') && !markers.has(n))) {
            const log = /^(.+)-(\d{4})(\d\d)(\d\d)T/.exec(name)!;
            if (await servers.s3.head(BUCKET, `${PREFIX}/${log[1]}/${log[2]}/${log[3]}/${log[4]}/${name}`))
              unmarked += 1;
          }
          if (unmarked) count('upload: object in S3, marker not yet written');
          if (!parts && !puts && !markerTemps && !unmarked) count('upload: between files / idle / starting');
        }
        for (const n of names) if (n.endsWith('.gz')) archivesSeen.add(n);

        // New hours keep coming; now and then a big one (multipart).
        const batch = pick([0, 1, 1, 2, 3]);
        for (let i = 0; i < batch; i += 1) await writeLog(random() < 0.05);
        running[victim] = start[victim]();
        children.add(running[victim]);
      }
    } catch (error) {
      (error as Error).message += `\n${context()}`;
      throw error;
    }

    // Stop both, then let each finish with --once runs until nothing is left to do.
    for (const victim of ['compress', 'upload'] as const) {
      running[victim].kill('SIGKILL');
      await waitExit(running[victim], 10_000);
      children.delete(running[victim]);
      kills += 1;
    }
    figures.kills += kills;
    let compressed = false;
    for (let i = 0; i < 5 && !compressed; i += 1) {
      const result = await runBin('logjam-compress', ['--once', ...compressArgs.slice(0, 2), logDir]);
      expect(result.code, `${result.stderr}\n${context()}`).to.equal(0);
      compressed = (await ls(logDir)).every((n) => n === 'archive');
    }
    expect(await ls(logDir), context()).to.deep.equal(['archive']);
    let uploaded = false;
    for (let i = 0; i < 5 && !uploaded; i += 1) {
      const result = await runBin('logjam-upload', ['--once', ...uploadArgs.slice(2)], {
        cleanEnv: true,
        env: uploadEnv,
      });
      expect(result.code, `${result.stderr}\n${context()}`).to.equal(0);
      uploaded = /pass done pending=0 /.test(result.stderr);
    }
    expect(uploaded, context()).to.equal(true);

    // No temporary file, lock or stray marker left anywhere.
    const leftovers = (await ls(archiveDir)).filter((n) => n.startsWith('.') && n !== '.uploaded');
    expect(leftovers, `temporary or lock files left in archive/\n${context()}`).to.deep.equal([]);
    const markers = await ls(path.join(archiveDir, '.uploaded'));
    expect(
      markers.filter((n) => n.startsWith('.')),
      `temporary files left in archive/.uploaded/\n${context()}`,
    ).to.deep.equal([]);
    // Every archive still on disk is uploaded (its marker exists).
    for (const n of (await ls(archiveDir)).filter((n) => n.endsWith('.gz'))) expect(markers, context()).to.include(n);

    // Every object: a valid gzip holding exactly the content of one file written.
    const copies = new Map<string, number>();
    let extraObjects = 0;
    let extraLines = 0;
    let bytes = 0;
    let lines = 0;
    // A probe of the store's conditional writes killed before its delete leaves its empty object: no archive.
    const keys = (await servers.s3.keys(BUCKET, `${PREFIX}/`)).filter((key) => !isProbeKey(key));
    for (const key of keys) {
      const out = await servers.s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const gz = Buffer.from(await out.Body!.transformToByteArray());
      let plain: Buffer;
      try {
        plain = gunzipSync(gz);
      } catch (error) {
        throw new Error(
          `s3://${BUCKET}/${key} is not a valid gzip (${gz.length} bytes): ${String(error)}\n${context()}`,
        );
      }
      const { name, extra } = sourceOf(key);
      const file = written.get(name);
      expect(file, `s3://${BUCKET}/${key} holds no file this test wrote\n${context()}`).to.not.equal(undefined);
      expect(
        plain.equals(content(file!)),
        `s3://${BUCKET}/${key} differs from ${name} (${plain.length} bytes)\n${context()}`,
      ).to.equal(true);
      copies.set(name, (copies.get(name) ?? 0) + 1);
      if (extra) {
        extraObjects += 1;
        extraLines += file!.lines;
      }
      bytes += plain.length;
      lines += file!.lines;
    }
    // Every line exactly once: each file in exactly one object.
    for (const file of written.values()) {
      const n = copies.get(file.name) ?? 0;
      expect(n, `${file.name} (${file.lines} lines) is not in S3\n${context()}`).to.be.greaterThan(0);
    }
    // No other writer exists: not one conflict or duplicate-timestamp copy, not one file twice.
    const duplicated = [...copies.values()].reduce((sum, n) => sum + n - 1, 0);
    expect(duplicated, `files in S3 more than once\n${context()}`).to.equal(0);
    expect(extraObjects, `conflict or duplicate-timestamp copies, with no other writer\n${context()}`).to.equal(0);
    for (const name of archivesSeen)
      expect(copies.has(name.slice(0, -3)), `archive ${name} was seen but is not in S3`).to.equal(true);
    figures.bytesVerified += bytes;
    figures.linesVerified += lines - extraLines;

    const where = Object.entries(landed)
      .sort()
      .map(([what, n]) => `${what}: ${n}`)
      .join('; ');
    console.log(
      `      seed ${SEED}: ${kills} kills; ${written.size} files (${bigCount} multipart), ${keys.length} objects, ${lines - extraLines} lines verified once, ` +
        `${extraObjects} conflict/duplicate-timestamp copies (${extraLines} lines); kills landed: ${where}`,
    );
  });
});
