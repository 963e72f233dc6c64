// 1b. zstd archives: logjam-compress --format zstd against zstd -3 -T<cores>,
// pigz -6 and gzip -6 on 8 of the hourly files, tools alternating. Needs a
// Node with zstd in zlib (22.15 and later) to run logjam's row.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import zlib from 'node:zlib';
import { corpusHourly } from '../lib/corpora.mjs';
import { CLI, WORK } from '../lib/paths.mjs';
import { MB, copyFresh, dirBytes, f, median, rotate, spread } from '../lib/util.mjs';

/** @typedef {{ name: string, logjam?: boolean, cmd: string, args: string[], out: string, ext: string }} Compressor */

/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchZstd(bench) {
  const { opt, size, tools, report } = bench;
  report.emit('zstd', `## 1b. zstd archives (\`--format zstd\`, level 3)\n`);
  const zstdVersion = spawnSync('zstd', ['--version'], { encoding: 'utf8' }).stdout?.trim();
  if (!zstdVersion) report.emit('zstd', `_zstd missing: its row is skipped (Debian: \`apt-get install zstd\`)._\n`);
  const nodeHasZstd = typeof (/** @type {{ zstdCompress?: unknown }} */ (zlib).zstdCompress) === 'function';
  if (!nodeHasZstd)
    report.emit(
      'zstd',
      `_Node ${process.version} has no zstd in zlib: logjam's row needs Node 22.15 or later (run the bench with it)._\n`,
    );
  const J = opt.jobs;
  const files = (await corpusHourly(size.hourlyMB)).slice(0, 8);
  const names = files.map((x) => x.name);
  const inBytes = files.reduce((s, x) => s + x.size, 0);
  const dir = path.join(WORK, 'zstd');
  /** @type {Compressor[]} */
  const list = [];
  if (tools.logjamCompress && nodeHasZstd)
    list.push({
      name: `logjam-compress --once --format zstd --jobs ${J}`,
      logjam: true,
      cmd: process.execPath,
      args: [CLI.compress, '--once', '--format', 'zstd', '--jobs', String(J), dir],
      out: path.join(dir, 'archive'),
      ext: '.zst',
    });
  if (zstdVersion)
    list.push({
      name: `zstd -3 -T${J}`,
      cmd: 'zstd',
      args: ['-3', `-T${J}`, '-q', '--rm', ...names],
      out: dir,
      ext: '.zst',
    });
  if (zstdVersion)
    // What logjam does besides compressing, done with the CLI: each archive decompressed and checked
    // (zstd -t checks the frame's content checksum). Without logjam's fsyncs, and with the CLI's decoder.
    list.push({
      name: `zstd -3 -T${J}, then zstd -t`,
      cmd: 'sh',
      args: [
        '-c',
        `zstd -3 -T${J} -q --rm "$@" && for f in "$@"; do zstd -q -t "$f.zst" || exit 1; done`,
        'sh',
        ...names,
      ],
      out: dir,
      ext: '.zst',
    });
  if (tools.logjamCompress && nodeHasZstd)
    list.push({
      name: `logjam-compress --once --format zstd --jobs ${J} --no-verify`,
      cmd: process.execPath,
      args: [CLI.compress, '--once', '--format', 'zstd', '--jobs', String(J), '--no-verify', dir],
      out: path.join(dir, 'archive'),
      ext: '.zst',
    });
  if (tools.pigz)
    list.push({ name: `pigz -6 -p ${J}`, cmd: 'pigz', args: ['-6', '-p', String(J), ...names], out: dir, ext: '.gz' });
  if (tools.gzip)
    list.push({ name: 'gzip -6 (one core, sequential)', cmd: 'gzip', args: ['-6', ...names], out: dir, ext: '.gz' });
  /** @type {Map<Compressor, Array<import('../lib/processes.mjs').RunResult & { outBytes: number, ok: boolean }>>} */
  const res = new Map(list.map((t) => [t, []]));
  /** @type {string[]} */
  const checks = [];
  for (let r = 0; r < opt.rounds; r++) {
    for (const t of rotate(list, r)) {
      copyFresh(files, dir);
      process.stderr.write(`  zstd round ${r + 1}: ${t.name} ... `);
      const run = await bench.proc.run(`zstd-${t.name.split(' ')[0]}`, t.cmd, t.args, { cwd: dir });
      const outs = fs.existsSync(t.out) ? fs.readdirSync(t.out).filter((n) => n.endsWith(t.ext)) : [];
      const outBytes = fs.existsSync(t.out) ? dirBytes(t.out, (n) => n.endsWith(t.ext)) : NaN;
      const ok = run.code === 0 && names.every((n) => outs.includes(n + t.ext));
      process.stderr.write(`${f(run.wall, 2)} s${ok ? '' : ' FAILED'}\n`);
      res.get(t)?.push({ ...run, outBytes, ok });
      if (t.logjam && r === 0 && ok) checks.push(...validateZst(files, t.out));
    }
  }
  const rate = (/** @type {Compressor | undefined} */ t) =>
    t ? median((res.get(t) ?? []).filter((x) => x.ok).map((x) => inBytes / MB / x.wall)) : NaN;
  const outOf = (/** @type {Compressor | undefined} */ t) =>
    t ? median((res.get(t) ?? []).filter((x) => x.ok).map((x) => x.outBytes)) : NaN;
  const lj = list.find((t) => t.logjam);
  const pz = list.find((t) => t.cmd === 'pigz');
  const zs = list.find((t) => t.cmd === 'zstd');
  report.emit(
    'zstd',
    `### 8 hourly files of ~${size.hourlyMB} MB: ${f(inBytes / MB, 0)} MB in, ${opt.rounds} rounds, median (min–max)\n`,
  );
  report.emit(
    'zstd',
    `| tool | MB/s of input | wall s | CPU s | peak RSS MB | out/in | size vs pigz -6 | logjam ÷ tool (MB/s) |\n|---|---|---|---|---|---|---|---|`,
  );
  for (const t of list) {
    const xs = (res.get(t) ?? []).filter((x) => x.ok);
    if (!xs.length) {
      report.emit('zstd', `| ${t.name} | failed | | | | | | |`);
      continue;
    }
    const mbs = xs.map((x) => inBytes / MB / x.wall);
    report.emit(
      'zstd',
      `| ${t.name} | **${f(median(mbs))}**${spread(mbs)} | ${f(median(xs.map((x) => x.wall)), 2)} | ${f(median(xs.map((x) => x.cpu)), 1)} | ${f(median(xs.map((x) => x.rss)), 0)} | ${f(outOf(t) / inBytes, 4)} | ${f((outOf(t) / outOf(pz) - 1) * 100, 2)}% | ${t.logjam ? '' : f(rate(lj) / median(mbs), 2)} |`,
    );
  }
  report.emit('zstd', '');
  if (checks.length) report.emit('zstd', `Validation of logjam's .zst (round 1): ${checks.join('; ')}.\n`);
  if (lj) {
    report.target(
      'zstd: logjam --format zstd ÷ pigz -6, MB/s',
      '≥ 2.5',
      rate(lj) / rate(pz),
      rate(lj) / rate(pz) >= 2.5,
    );
    report.target(
      'zstd: logjam --format zstd ÷ zstd -3, MB/s',
      '≥ 0.8',
      rate(lj) / rate(zs),
      rate(lj) / rate(zs) >= 0.8,
    );
    report.target('zstd: output size ÷ pigz -6', '≤ 1.05', outOf(lj) / outOf(pz), outOf(lj) / outOf(pz) <= 1.05);
  }
  report.emit(
    'zstd',
    `logjam's time includes its fsyncs and its verification (decompression and comparison); zstd, pigz and gzip do neither, and the row \`zstd, then zstd -t\` adds the CLI's own check (decompression, content checksum) to compare like with like. Which format: gzip (the default) where anything may read the archives (every tool, the Python tool's readers); zstd where the readers take it (Athena, Trino, Spark, the zstd CLI) and the CPU or the time matters.\n`,
  );
  return checks.every((c) => !c.includes('FAILED'));
}

/** zstd -t, zstd -dc | cmp, and zstd -lv's frame count and window on logjam's archives. @param {import('../lib/util.mjs').CorpusFile[]} files @param {string} archiveDir */
function validateZst(files, archiveDir) {
  let same = 0;
  for (const x of files) {
    const d = spawnSync('zstd', ['-dc', path.join(archiveDir, x.name + '.zst')], { maxBuffer: 1024 * MB });
    if (d.status === 0 && d.stdout.equals(fs.readFileSync(x.path))) same++;
  }
  const list = spawnSync(
    'zstd',
    ['-lv', path.join(archiveDir, /** @type {import('../lib/util.mjs').CorpusFile} */ (files[0]).name + '.zst')],
    { encoding: 'utf8' },
  );
  const text = list.stdout + list.stderr;
  const frames = Number(/# Zstandard Frames: (\d+)/.exec(text)?.[1]);
  const window = Number(/Window Size: .*\((\d+) B\)/.exec(text)?.[1]);
  return [
    `zstd -dc byte-identical ${same}/${files.length}${same === files.length ? '' : ' FAILED'}`,
    `${frames} frame(s), window ${window / MB} MiB${frames === 1 && window <= 8 * MB ? '' : ' FAILED'}`,
  ];
}
