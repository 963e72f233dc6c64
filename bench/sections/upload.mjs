// 3. Upload: logjam-upload against rclone, the AWS CLI and a raw baseline, to one local
// server: s3rver (default) or the repository's Ceph RGW (--server rgw).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { corpusUploadRandom, corpusUploadSmall } from '../lib/corpora.mjs';
import { CLI, HERE, ROOT, WORK } from '../lib/paths.mjs';
import { SHM, logjamKey } from '../lib/s3.mjs';
import {
  MB,
  afterDeletions,
  copyFresh,
  deletedMany,
  f,
  linkFresh,
  listFiles,
  median,
  rm,
  rotate,
  sha256File,
  spread,
  syncDisks,
} from '../lib/util.mjs';

/** packages/logjam-upload/src/profile.ts: what a folder's runs learned of the store, in its .uploaded/. */
const PROFILE_FILE = '.logjam-store-profile.json';

/** @typedef {import('../lib/processes.mjs').RunResult & { count: number, ok: boolean, requests: Record<string, number> | null }} UploadRun */
/**
 * @typedef {object} Uploader
 * @property {string} name
 * @property {boolean} [logjam]
 * @property {'default' | 'jobs'} [pair] logjam's default or --jobs N, to be set against rclone's default or --transfers N
 * @property {boolean} [firstRun] logjam in a folder of its own that has never uploaded: it probes the store first (no target)
 * @property {(p: string, name: string) => string} key the key a file lands at in run p
 * @property {(dir: string, p: string) => [string, string[], Record<string, string | undefined>]} mk the command uploading dir in run p
 */

/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchUpload(bench) {
  const { opt, size, tools, report } = bench;
  const rgw = opt.server === 'rgw';
  // RGW's tables go to a block of their own in RESULTS.md, beside s3rver's.
  const block = rgw ? 'upload-rgw' : 'upload';
  report.emit(
    block,
    `## 3. Upload to a local ${rgw ? 'Ceph RGW (scripts/rgw.sh, memstore)' : 's3rver'} (127.0.0.1, one server for all tools)\n`,
  );
  const s3 = await bench.s3.forUpload();
  const UJ = opt.uploadJobs;
  const sets = [
    {
      key: 'small',
      title: `(a) ${size.small} small archives (2–9 KB)`,
      unit: 'files/s',
      extra: 0,
      src: await corpusUploadSmall(size.small),
    },
    {
      key: 'medium',
      title: `(b) 24 archives of ${size.mediumMB} MB`,
      unit: 'MB/s',
      extra: 2,
      src: await corpusUploadRandom('up-medium', 24, size.mediumMB, 6),
    },
    // RGW: the issue's two rows (#28); the 150 MB row is s3rver's.
    ...(rgw
      ? []
      : [
          {
            key: 'large',
            title: `(c) one archive of ${size.largeMB} MB`,
            unit: 'MB/s',
            extra: 2,
            src: await corpusUploadRandom('up-large', 1, size.largeMB, 7),
          },
        ]),
  ];
  /** @type {Uploader[]} */
  const list = [];
  const under = (/** @type {string} */ p, /** @type {string} */ n) => `${p}/${n}`;
  if (tools.logjamUpload) list.push(...logjamRows(opt, s3));
  else report.emit(block, `_logjam-upload not built: row skipped._\n`);
  if (tools.rclone) {
    list.push({
      name: 'rclone copy (default: --transfers 4)',
      pair: 'default',
      key: under,
      mk: (dir, p) => ['rclone', ['copy', dir, `s3bench:${p}/${p}`], s3.rcloneEnv()],
    });
    list.push({
      name: `rclone copy --transfers ${UJ}`,
      pair: 'jobs',
      key: under,
      mk: (dir, p) => ['rclone', ['copy', '--transfers', String(UJ), dir, `s3bench:${p}/${p}`], s3.rcloneEnv()],
    });
  } else report.emit(block, `_rclone missing: rows skipped (Debian: \`apt-get install rclone\`)._\n`);
  const aws = tools.aws;
  if (aws)
    list.push({
      name: 'aws s3 cp --recursive',
      key: under,
      mk: (dir, p) => [
        aws.cmd,
        ['s3', 'cp', '--recursive', '--only-show-errors', dir, `s3://${p}/${p}/`, '--endpoint-url', s3.url],
        s3.awsCliEnv(),
      ],
    });
  else report.emit(block, `_aws CLI missing or broken: row skipped (Debian: \`apt-get install awscli\`)._\n`);
  // RGW refuses unsigned PUTs to a private bucket: the raw baseline is s3rver's.
  if (!rgw)
    list.push({
      name: `raw baseline: unsigned keep-alive PUT ×${UJ}`,
      key: under,
      mk: (dir, p) => [process.execPath, [path.join(HERE, 'lib/raw-put.mjs'), s3.url, p, p, dir, String(UJ)], {}],
    });
  // logjam-upload creates a marker per archive: not while ext4 still holds back inodes deleted by a run before.
  await afterDeletions((line) => process.stderr.write(line));
  for (const set of sets) {
    const files = listFiles(set.src);
    const bytes = files.reduce((s, x) => s + x.size, 0);
    /** @type {Map<Uploader, UploadRun[]>} */
    const res = new Map(list.map((t) => [t, []]));
    const runsOf = (/** @type {Uploader} */ t) => /** @type {UploadRun[]} */ (res.get(t));
    const verified = [];
    const rounds = opt.rounds + set.extra; // runs of about a second: two more rounds against noise
    for (let r = 0; r < rounds; r++) {
      for (const t of rotate(list, r)) {
        const p = `r${r + 1}-${set.key}-${list.indexOf(t)}`;
        // A fresh folder per run (no .uploaded/ markers), removed only when the section ends (see below).
        const dir = path.join(WORK, 'upload', p, 'archive');
        // As root, logjam-upload refuses a file with another name (a hard link): copies, made before the clock starts.
        if (process.geteuid?.() === 0) copyFresh(files, dir);
        else linkFresh(set.src, dir);
        await s3.freshBucket(p);
        if (t.logjam && !t.firstRun)
          await knownStore(bench, s3, t, p, dir, /** @type {import('../lib/util.mjs').CorpusFile} */ (files[0]).name);
        const [cmd, args, env] = t.mk(dir, p);
        // The previous run's objects (written by the server) are flushed now, not during this run.
        syncDisks();
        process.stderr.write(`  upload ${set.key} round ${r + 1}: ${t.name} ... `);
        const run = await bench.proc.run(`upload-${p}`, cmd, args, { env });
        const requests = s3.requests(p);
        const count = await s3.count(p);
        const x = { ...run, count, requests, ok: run.code === 0 && count === files.length };
        process.stderr.write(`${f(x.wall, 2)} s, ${x.count}/${files.length} objects${x.ok ? '' : ' FAILED'}\n`);
        if (r === 0 && x.ok) {
          const probe = /** @type {import('../lib/util.mjs').CorpusFile} */ (files[files.length - 1]);
          const got = await s3.get(p, t.key(p, probe.name));
          const good = got.status === 200 && got.sha === (await sha256File(probe.path));
          verified.push(`${t.name}: ${good ? 'identical' : `**DIFFERENT (HTTP ${got.status})**`}`);
          if (!good) x.ok = false;
        }
        if (s3.inMemory) await s3.drop(p);
        runsOf(t).push(x);
      }
    }
    const rate = (/** @type {UploadRun} */ x) => (set.unit === 'files/s' ? files.length / x.wall : bytes / MB / x.wall);
    const medianRate = (/** @type {Uploader | undefined} */ t) =>
      t
        ? median(
            runsOf(t)
              .filter((x) => x.ok)
              .map(rate),
          )
        : NaN;
    const ljRate = medianRate(list.find((t) => t.logjam));
    /** rclone's row that a logjam row is set against: default against default, --jobs N against --transfers N */
    const peerOf = (/** @type {Uploader} */ t) => list.find((u) => !u.logjam && u.pair === t.pair);
    report.emit(
      block,
      `### ${set.title}: ${files.length} files, ${f(bytes / MB, 1)} MB, ${rounds} rounds, median (min–max)\n`,
    );
    report.emit(
      block,
      `| tool | ${set.unit} | wall s | CPU s (client) | CPU ms per archive | requests per archive | peak RSS MB | logjam ÷ tool | ÷ rclone, same concurrency |\n|---|---|---|---|---|---|---|---|---|`,
    );
    for (const t of list) {
      const xs = runsOf(t).filter((x) => x.ok);
      if (!xs.length) {
        const x0 = /** @type {UploadRun} */ (runsOf(t)[0]);
        report.emit(
          block,
          `| ${t.name} | failed (exit ${x0.code}, ${x0.count}/${files.length} objects; ${path.relative(ROOT, x0.log)}) | | | | | | | |`,
        );
        continue;
      }
      const rs = xs.map(rate);
      const cpu = median(xs.map((x) => x.cpu));
      const vsPeer = t.logjam && t.pair ? median(rs) / medianRate(peerOf(t)) : NaN;
      if (t.logjam && Number.isFinite(vsPeer))
        report.target(
          `upload ${set.title.slice(0, 3)}: ${t.name} ÷ ${peerOf(t)?.name}, ${set.unit}`,
          '≥ 1.0',
          vsPeer,
          vsPeer >= 1.0,
        );
      report.emit(
        block,
        `| ${t.name}${xs.length < rounds ? ` (${rounds - xs.length} failed)` : ''} | **${f(median(rs))}**${spread(rs)} | ${f(median(xs.map((x) => x.wall)), 2)} | ${f(cpu, 2)} | ${f((cpu * 1000) / files.length, 2)} | ${requestsPerFile(xs, files.length)} | ${f(median(xs.map((x) => x.rss)), 0)} | ${t.logjam ? '' : f(ljRate / median(rs), 2)} | ${t.logjam && t.pair ? f(vsPeer, 2) : ''} |`,
      );
    }
    report.emit(
      block,
      `\nDownloaded one object per tool (round 1) and compared with the file: ${verified.join('; ') || 'none verified'}.\n`,
    );
  }
  rm(path.join(WORK, 'upload'));
  deletedMany();
  if (s3.dir) for (const name of fs.readdirSync(s3.dir)) if (/^r\d+-/.test(name)) s3.drop(name);
  report.emit(block, rgw ? rgwNote() : s3rverNote(s3.inMemory));
  return true;
}

/**
 * logjam-upload's rows: `--jobs N` and its default (4), on this Node (the npm
 * install), on each other Node of --node, and as the executable of --exe.
 * @param {import('../lib/options.mjs').Options} opt
 * @param {{ logjamArgs: (dir: string, p: string) => string[], env: () => Record<string, string | undefined> }} s3
 * @returns {Uploader[]}
 */
function logjamRows(opt, s3) {
  const UJ = String(opt.uploadJobs);
  // The npm install runs as the installed command does: its launcher executed, which starts the
  // `node` first on PATH with the V8 flags of its first line (`node LAUNCHER` would skip them).
  const onPath = (/** @type {string} */ node) => ({ PATH: `${path.dirname(node)}:${process.env.PATH ?? ''}` });
  /** @type {Array<[string, string, Record<string, string>]>} label, command, the environment it adds */
  const installs = [
    [`npm, Node ${process.versions.node}`, CLI.upload, onPath(process.execPath)],
    ...opt.nodes.map(
      (node) =>
        /** @type {[string, string, Record<string, string>]} */ ([
          `npm, Node ${nodeVersion(node)}`,
          CLI.upload,
          onPath(node),
        ]),
    ),
  ];
  if (opt.exe) installs.push(['executable', opt.exe, {}]);
  /** @type {Uploader[]} */
  const rows = installs.flatMap(
    ([label, cmd, added]) =>
      /** @type {Uploader[]} */ ([
        {
          name: `logjam-upload --once --jobs ${UJ} (${label})`,
          logjam: true,
          pair: /** @type {const} */ ('jobs'),
          key: logjamKey,
          mk: (dir, p) => [cmd, ['--once', ...s3.logjamArgs(dir, p), '--jobs', UJ], { ...s3.env(), ...added }],
        },
        {
          name: `logjam-upload --once (default: --jobs 4; ${label})`,
          logjam: true,
          pair: /** @type {const} */ ('default'),
          key: logjamKey,
          mk: (dir, p) => [cmd, ['--once', ...s3.logjamArgs(dir, p)], { ...s3.env(), ...added }],
        },
      ]),
  );
  // The rows above run as every hourly run after a folder's first does; what that first run adds, here.
  const [first] = rows;
  if (first) {
    const firstRun = {
      ...first,
      name: `${first.name.replace(/\)$/, '')}; a folder's first run, which probes the store)`,
      firstRun: true,
    };
    delete firstRun.pair;
    rows.push(firstRun);
  }
  return rows;
}

/**
 * Where an hourly run starts: its folder's .uploaded/ holds what an earlier run
 * learned of the store (.logjam-store-profile.json: the conditional-writes
 * probe runs about once a week, packages/logjam-upload/src/profile.ts). Made
 * by that run's own command, untimed: it uploads one small file of its own to
 * the run's bucket, under another name (small: RGW collects a deleted large
 * object's tail in the background, which would overlap the run); its profile
 * is copied into the run's fresh folder, its object removed, and the run's
 * requests counted from there.
 * @param {import('../lib/context.mjs').Bench} bench
 * @param {{ remove: (bucket: string, key: string) => Promise<void> }} s3
 * @param {Uploader} t @param {string} p @param {string} dir the run's folder
 * @param {string} like a name of the set's, whose date the earlier file takes
 */
async function knownStore(bench, s3, t, p, dir, like) {
  const earlier = path.join(WORK, 'upload', `${p}-earlier`, 'archive');
  const name = like.replace(/^[^-]+/, 'earlier');
  fs.mkdirSync(earlier, { recursive: true });
  fs.writeFileSync(path.join(earlier, name), zlib.gzipSync(`${p}: the run before\n`));
  const [cmd, args, env] = t.mk(earlier, p);
  const run = await bench.proc.run(`upload-${p}-earlier`, cmd, args, { env });
  const profile = path.join(earlier, '.uploaded', PROFILE_FILE);
  if (run.code !== 0 || !fs.existsSync(profile))
    throw new Error(`${t.name}: the untimed earlier run failed (exit ${run.code}; ${path.relative(ROOT, run.log)})`);
  fs.mkdirSync(path.join(dir, '.uploaded'), { mode: 0o755 });
  fs.copyFileSync(profile, path.join(dir, '.uploaded', PROFILE_FILE));
  fs.chmodSync(path.join(dir, '.uploaded', PROFILE_FILE), 0o600);
  await s3.remove(p, t.key(p, name));
}

/** @param {string} node */
const nodeVersion = (node) =>
  spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim() || node;

/** Median requests per archive, by method (`PUT 1.00 HEAD 0.01`), or a dash where the server does not count them (s3rver). @param {UploadRun[]} xs @param {number} files */
function requestsPerFile(xs, files) {
  const counted = xs.map((x) => x.requests).filter((r) => r !== null);
  if (!counted.length) return '–';
  const methods = [...new Set(counted.flatMap((r) => Object.keys(r)))].sort();
  // Start-up requests (a probe, HeadBucket) are a few in all, not per archive: counted as such.
  return methods
    .map((m) => {
      const n = median(counted.map((r) => r[m] ?? 0));
      return n / files >= 0.01 ? `${m} ${f(n / files, 2)}` : `${m} ${f(n, 0)} in all`;
    })
    .join(', ');
}

function rgwNote() {
  return `Ceph RGW (Debian's radosgw, beast frontend) with one memstore OSD, all on 127.0.0.1 and the same 2 cores as the client: CPU s is the client process tree's only (user + system, \`/usr/bin/time\`), per archive divided by the files. Requests per archive are counted from RGW's own access log (one line per request, the run's bucket in its path), so no proxy stands between tool and server. A fresh bucket and key prefix per tool and round, created just before its run; its objects and bucket are deleted right after (memstore keeps them in memory), and one object per tool is downloaded in round 1 and compared with its file. The \`archive/\` folders are fresh per run: hard links, or, when the bench runs as root (where logjam-upload refuses a file with a second name), copies, made before the clock starts, followed by \`sync\`. No raw baseline (RGW refuses unsigned PUTs to a private bucket), and no 150 MB row (the issue's two rows, #28). Each logjam row runs as every hourly run after a folder's first does, in a folder whose \`.uploaded/\` already holds what an earlier run learned of the store (\`.logjam-store-profile.json\`; the conditional-writes probe runs about once a week): made untimed by that row's own command, which uploads one file of its own to the run's bucket under another name first; the profile is copied into the fresh folder, that object deleted, and requests counted from there. The row marked "a folder's first run" has no such folder: it probes the store first, and is set against no target. One run: \`npm run bench -- --only upload --server rgw\`.\n`;
}

/** @param {boolean} inMemory */
function s3rverNote(inMemory) {
  return `${inMemory ? `The server's store is in memory (tmpfs, ${SHM}): on disk, the write-back of one run's objects stalled the next run, whichever tool it was; each run's objects are removed after it. ` : ''}A fresh, empty bucket, key prefix and hard-linked \`archive/\` (no \`.uploaded/\` markers) per tool and round: s3rver answers HeadBucket, which logjam-upload sends at start-up (rclone and aws do not), by listing the bucket's first 1,000 objects, 45 ms with 240 objects and 150 ms with 10,240 (measured), where S3's does not depend on what the bucket holds; in one shared bucket every logjam run paid for the other runs' objects; ${inMemory ? 'the archive folders' : 'objects and folders'} are deleted only after the whole section, because on this machine's ext4 (no journal) creating files in a folder tree where many were just deleted costs 10-30x the system time, and for minutes (measured), which deleting after each run made every next run pay, logjam (which writes a marker per file) and the server most. The server shares the 2 cores with the client: CPU s is the client's only. rclone's default upload cutoff is 200 MB and logjam's (\`--multipart-threshold\`) too, so both send (c) as one PUT; aws goes multipart (8 MB). The raw baseline is one unsigned PUT per file (no HEAD, no checksum, no multipart): about as fast as this server goes. \`sync\` before every run, so that no run pays for flushing the one before. Each logjam row runs as every hourly run after a folder's first does, in a folder whose \`.uploaded/\` already holds what an earlier run learned of the store (\`.logjam-store-profile.json\`; the conditional-writes probe runs about once a week): made untimed by that row's own command, which uploads one file of its own to the run's bucket under another name first; the profile is copied into the fresh folder, that object deleted, and requests counted from there. The row marked "a folder's first run" has no such folder: it probes the store first, and is set against no target.\n`;
}
