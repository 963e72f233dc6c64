// 7. logjam-upload --audit of a host's marked archives against s3rver: wall
// time, requests, peak RSS at two sizes (RSS that grows with the archives
// only by their names' few bytes each is what "bounded" means here).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stamp, SUFFIX } from '../lib/corpus.mjs';
import { CLI, WORK } from '../lib/paths.mjs';
import { f, mkdir, rm } from '../lib/util.mjs';

const PREFIXES = ['haproxy', 'nginx', 'api', 'web', 'auth', 'billing', 'search', 'cdn', 'mail', 'queue'];

/**
 * `count` archives uploaded as logjam-upload leaves them: the file and its
 * marker here, the object (with logjam's MD5 metadata) in s3rver's store,
 * written straight into its folder (uploading 100,000 objects through s3rver
 * would take most of an hour, and is not what is measured). Ten prefixes, one
 * archive an hour each: one key folder per prefix and day, 24 archives each.
 * @param {import('../lib/s3.mjs').S3Server} s3 @param {string} bucket @param {number} count
 */
function shipped(s3, bucket, count) {
  const dir = path.join(WORK, 'audit', 'archive');
  rm(path.dirname(dir));
  mkdir(path.join(dir, '.uploaded'));
  const base = Date.UTC(2012, 0, 1);
  for (let i = 0; i < count; i++) {
    const start = new Date(base + Math.floor(i / PREFIXES.length) * 3600_000);
    const prefix = PREFIXES[i % PREFIXES.length] ?? 'app';
    const name = `${prefix}-${stamp(start)}-${SUFFIX}.log.gz`;
    const body = Buffer.from(`${name} ${i}\n`.repeat(4));
    fs.writeFileSync(path.join(dir, name), body);
    fs.writeFileSync(path.join(dir, '.uploaded', name), '');
    const p2 = (/** @type {number} */ n) => String(n).padStart(2, '0');
    const folder = path.join(
      s3.dir,
      bucket,
      bucket,
      prefix,
      String(start.getUTCFullYear()),
      p2(start.getUTCMonth() + 1),
      p2(start.getUTCDate()),
    );
    if (i < PREFIXES.length || start.getUTCHours() === 0) mkdir(folder);
    const md5 = crypto.createHash('md5').update(body).digest('hex');
    const object = path.join(folder, `${name}._S3rver_`);
    fs.writeFileSync(`${object}object`, body);
    fs.writeFileSync(`${object}object.md5`, md5);
    fs.writeFileSync(
      `${object}metadata.json`,
      JSON.stringify({ 'content-type': 'application/octet-stream', 'x-amz-meta-logjam-md5': md5 }),
    );
  }
  return dir;
}

/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchAudit(bench) {
  const { tools, report, opt } = bench;
  report.emit('audit', `## 7. Audit: \`logjam-upload --audit\` of a host's marked archives\n`);
  if (!tools.logjamUpload) {
    report.emit('audit', '_logjam-upload not built: section skipped._\n');
    return true;
  }
  const s3 = await bench.s3.start();
  const rows = [];
  let ok = true;
  for (const count of [10_000, 100_000]) {
    const bucket = `audit-${count}`;
    await s3.freshBucket(bucket);
    const dir = shipped(s3, bucket, count);
    const args = [
      CLI.upload,
      '--audit',
      '--jobs',
      String(opt.uploadJobs),
      '--log-level',
      'debug',
      ...s3.logjamArgs(dir, bucket),
    ];
    const x = await bench.proc.run(`audit-${count}`, process.execPath, args, { env: s3.env() });
    const log = fs.readFileSync(x.log, 'utf8');
    const summary = Object.fromEntries(
      [...(/audited=\d+[^\n]*/.exec(log)?.[0] ?? '').matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]),
    );
    const good = x.code === 0 && summary.audited === count && summary.intact === count;
    ok = ok && good;
    const folders = Math.ceil(count / PREFIXES.length / 24) * PREFIXES.length;
    rows.push(
      `| ${count.toLocaleString('en')} | ${folders.toLocaleString('en')} | ${good ? summary.requests : 'failed'} | ${f(x.wall, 1)} | ${f(x.cpu, 1)} | ${f(x.rss, 0)} | ${f((count / x.wall) | 0, 0)} |`,
    );
    if (count === 100_000)
      report.target(
        'audit: logjam-upload --audit peak RSS on 100,000 archives, MB',
        '< 150',
        good ? x.rss : NaN,
        x.rss < 150,
        0,
      );
    s3.drop(bucket);
    rm(path.dirname(dir));
  }
  report.emit(
    'audit',
    `One run each, after the archives and objects were written (s3rver's files written straight into its store). Ten prefixes, one archive an hour each (about 100 bytes), so one key folder per prefix and day, 24 archives in each: the audit sends one HeadBucket and one ListObjectsV2 per folder, no HEAD (a HEAD per archive would be ${(100_000).toLocaleString('en')} requests). Every archive is read for its MD5 (the listing's sizes all match). Peak RSS from /usr/bin/time; CPU is user + system of the logjam-upload process (s3rver runs in a process of its own).\n`,
  );
  report.emit(
    'audit',
    `| marked archives | key folders | requests | wall s | CPU s | peak RSS MB | archives/s |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
  return ok;
}
