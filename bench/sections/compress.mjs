// 1. Compression: logjam-compress against gzip -6 and pigz on the same files, alternating.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { corpusBigLog, corpusHourly } from '../lib/corpora.mjs';
import { CLI, ROOT, WORK } from '../lib/paths.mjs';
import { MB, copyFresh, dirBytes, f, median, rotate, spread } from '../lib/util.mjs';

/** @typedef {import('../lib/processes.mjs').RunResult & { outBytes: number, ok: boolean }} CompressRun */
/** @typedef {{ name: string, logjam?: boolean, cmd: string, args: string[], out: string }} Compressor */
/** @typedef {{ what: string, ok: boolean }} Check */

/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchCompress(bench) {
  const { opt, size, tools, report } = bench;
  report.emit('compress', `## 1. Compression (level 6)\n`);
  const J = opt.jobs;
  const sets = [
    { key: 'hourly', title: `(a) 24 hourly files of ~${size.hourlyMB} MB`, files: await corpusHourly(size.hourlyMB) },
    {
      key: 'big',
      title: `(b) one file of ${size.bigMB} MB${opt.full ? '' : ' (scaled down from 1 GB; `--full` for 1 GB)'}`,
      files: await corpusBigLog(size.bigMB, 5),
    },
  ];
  let ok = true;
  for (const set of sets) {
    const inBytes = set.files.reduce((s, x) => s + x.size, 0);
    const names = set.files.map((x) => x.name);
    const dir = path.join(WORK, 'compress');
    /** @type {Compressor[]} */
    const list = [];
    if (tools.logjamCompress)
      list.push({
        name: `logjam-compress --once --level 6 --jobs ${J}`,
        logjam: true,
        cmd: process.execPath,
        args: [CLI.compress, '--once', '--level', '6', '--jobs', String(J), dir],
        out: path.join(dir, 'archive'),
      });
    else if (set.key === 'hourly')
      report.emit('compress', `_logjam-compress not built: its rows are skipped (wired, not measured)._\n`);
    if (tools.gzip)
      list.push({ name: 'gzip -6 (one core, sequential)', cmd: 'gzip', args: ['-6', ...names], out: dir });
    if (tools.pigz)
      list.push({ name: `pigz -6 -p ${J}`, cmd: 'pigz', args: ['-6', '-p', String(J), ...names], out: dir });
    else if (set.key === 'hourly')
      report.emit('compress', `_pigz missing: row skipped (Debian: \`apt-get install pigz\`)._\n`);
    /** @type {Map<Compressor, CompressRun[]>} */
    const res = new Map(list.map((t) => [t, []]));
    const runsOf = (/** @type {Compressor} */ t) => /** @type {CompressRun[]} */ (res.get(t));
    /** @type {Check[]} */
    const checks = [];
    for (let r = 0; r < opt.rounds; r++) {
      for (const t of rotate(list, r)) {
        copyFresh(set.files, dir);
        process.stderr.write(`  compress ${set.key} round ${r + 1}: ${t.name} ... `);
        const run = await bench.proc.run(`compress-${set.key}-${t.name.split(' ')[0]}`, t.cmd, t.args, { cwd: dir });
        const outs = fs.existsSync(t.out) ? fs.readdirSync(t.out).filter((n) => n.endsWith('.gz')) : [];
        const outBytes = fs.existsSync(t.out) ? dirBytes(t.out, (n) => n.endsWith('.gz')) : NaN;
        const x = {
          ...run,
          outBytes,
          ok: run.code === 0 && outs.length === names.length && names.every((n) => outs.includes(n + '.gz')),
        };
        process.stderr.write(`${f(x.wall, 2)} s${x.ok ? '' : ' FAILED'}\n`);
        runsOf(t).push(x);
        if (t.logjam && r === 0 && x.ok) checks.push(...(await validateGz(bench, set.files, t.out)));
      }
    }
    const rate = (/** @type {Compressor | undefined} */ t) =>
      t
        ? median(
            runsOf(t)
              .filter((x) => x.ok)
              .map((x) => inBytes / MB / x.wall),
          )
        : NaN;
    const gz = list.find((t) => t.cmd === 'gzip');
    const gzOut = gz ? median(runsOf(gz).map((x) => x.outBytes)) : NaN;
    const lj = list.find((t) => t.logjam);
    const ljMBs = rate(lj);
    report.emit('compress', `### ${set.title}: ${f(inBytes / MB, 0)} MB in, ${opt.rounds} rounds, median (min–max)\n`);
    report.emit(
      'compress',
      `| tool | MB/s of input | wall s | CPU s | peak RSS MB | out/in | size vs gzip -6 | logjam ÷ tool (MB/s) |\n|---|---|---|---|---|---|---|---|`,
    );
    for (const t of list) {
      const all = runsOf(t);
      const xs = all.filter((x) => x.ok);
      const fails = all.length - xs.length;
      if (!xs.length) {
        const x0 = /** @type {CompressRun} */ (all[0]);
        report.emit(
          'compress',
          `| ${t.name} | failed (exit ${x0.code}, see ${path.relative(ROOT, x0.log)}) | | | | | | |`,
        );
        continue;
      }
      const mbs = xs.map((x) => inBytes / MB / x.wall);
      const out = median(xs.map((x) => x.outBytes));
      report.emit(
        'compress',
        `| ${t.name}${fails ? ` (${fails} failed)` : ''} | **${f(median(mbs))}**${spread(mbs)} | ${f(median(xs.map((x) => x.wall)), 2)} | ${f(median(xs.map((x) => x.cpu)), 1)} | ${f(median(xs.map((x) => x.rss)), 0)} | ${f(out / inBytes, 4)} | ${f((out / gzOut - 1) * 100, 2)}% | ${t.logjam ? '' : f(ljMBs / median(mbs), 2)} |`,
      );
    }
    report.emit('compress', '');
    if (lj) {
      const pz = list.find((t) => t.cmd === 'pigz');
      const ljOut = median(
        runsOf(lj)
          .filter((x) => x.ok)
          .map((x) => x.outBytes),
      );
      const which = set.key === 'hourly' ? 'a' : 'b';
      if (set.key === 'hourly')
        report.target('compress (a): logjam ÷ gzip -6, MB/s', '≥ 1.8', ljMBs / rate(gz), ljMBs / rate(gz) >= 1.8);
      report.target(
        `compress (${which}): logjam ÷ pigz, MB/s`,
        set.key === 'hourly' ? '≥ 1.0' : '≥ 0.9',
        ljMBs / rate(pz),
        ljMBs / rate(pz) >= (set.key === 'hourly' ? 1.0 : 0.9),
      );
      report.target(
        `compress (${which}): output size vs gzip -6, %`,
        '≤ +1%',
        (ljOut / gzOut - 1) * 100,
        ljOut / gzOut - 1 <= 0.01,
      );
    }
    if (checks.length) {
      const bad = checks.filter((c) => !c.ok);
      ok &&= !bad.length;
      report.emit(
        'compress',
        `Validation of logjam's output (round 1): ${bad.length ? '**FAILED**: ' + bad.map((c) => c.what).join('; ') : checks.map((c) => c.what).join('; ') + ' — all passed'}.\n`,
      );
    }
  }
  report.emit(
    'compress',
    `Corpus copied fresh (page cache warm, \`sync\`ed) before every run; copy time excluded. logjam's time includes its fsyncs and its verification pass (on by default); gzip/pigz do neither. Peak RSS and CPU from \`/usr/bin/time\`.\n`,
  );
  return ok;
}

/**
 * gunzip -t, zcat | cmp, and Python's gzip on logjam's archives.
 * @param {import('../lib/context.mjs').Bench} bench
 * @param {import('../lib/util.mjs').CorpusFile[]} files the sources
 * @param {string} archiveDir
 * @returns {Promise<Check[]>}
 */
async function validateGz(bench, files, archiveDir) {
  /** @type {Check[]} */
  const out = [];
  const archives = files.map((x) => path.join(archiveDir, x.name + '.gz'));
  const t = spawnSync('gzip', ['-t', ...archives]);
  out.push({ what: `gunzip -t on ${archives.length} archive(s)`, ok: t.status === 0 });
  let same = 0;
  for (const x of files) if (await sameAsSource(path.join(archiveDir, x.name + '.gz'), x.path)) same++;
  out.push({ what: `zcat | cmp byte-identical ${same}/${files.length}`, ok: same === files.length });
  const first = /** @type {import('../lib/util.mjs').CorpusFile} */ (files[0]);
  const firstArchive = /** @type {string} */ (archives[0]);
  if (bench.tools.python3) {
    const py = spawnSync('python3', [
      '-c',
      'import gzip,sys\nwith gzip.open(sys.argv[1]) as a, open(sys.argv[2],"rb") as b:\n  while True:\n    x=a.read(1<<20); y=b.read(1<<20)\n    if x!=y: sys.exit(1)\n    if not x: break',
      firstArchive,
      first.path,
    ]);
    out.push({ what: `Python gzip reads ${first.name}.gz back byte for byte`, ok: py.status === 0 });
  }
  const members = bench.tools.python3 ? countGzipMembers(firstArchive) : NaN;
  out.push({ what: `${first.name}.gz has ${members} gzip member(s) (must be 1)`, ok: members === 1 });
  return out;
}

/** Whether `gzip -dc archive | cmp - source` finds them equal. @param {string} archive @param {string} source @returns {Promise<boolean>} */
function sameAsSource(archive, source) {
  return new Promise((resolve) => {
    const z = spawn('gzip', ['-dc', archive], { stdio: ['ignore', 'pipe', 'ignore'] });
    const c = spawn('cmp', ['-s', '-', source], { stdio: ['pipe', 'ignore', 'ignore'] });
    z.stdout.pipe(c.stdin);
    c.stdin.on('error', () => {});
    /** @type {number | null | undefined} */
    let zc;
    /** @type {number | null | undefined} */
    let cc;
    const done = () => zc !== undefined && cc !== undefined && resolve(zc === 0 && cc === 0);
    z.on('close', (code) => ((zc = code), done()));
    c.on('close', (code) => ((cc = code), done()));
  });
}

/** Count gzip members (pigz-style single stream or concatenated members), with Python's zlib. @param {string} file */
function countGzipMembers(file) {
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
