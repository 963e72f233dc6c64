#!/usr/bin/env node
// logjam benchmark: logjam-compress / logjam-upload against gzip, pigz, rclone
// and the AWS CLI on the same files, in the same run, alternating tools.
// See bench/README.md. Installs nothing; skips (and says how to install) what is missing.
// This file is the runner; each section lives in sections/, shared parts in lib/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SECTIONS, USAGE, UsageError, commandLine, parseOptions, sizesFor } from './lib/options.mjs';
import { LOGS, OUT, RESULTS, ROOT } from './lib/paths.mjs';
import { Processes } from './lib/processes.mjs';
import { Report } from './lib/report.mjs';
import { LazyS3 } from './lib/s3.mjs';
import { detectTools } from './lib/tools.mjs';
import { f, loadavg, mkdir } from './lib/util.mjs';

/** The sections, loaded once the build is done (they use the built @logjam/core). */
async function loadSections() {
  const [
    { benchCompress },
    { benchZstd },
    { benchMemory },
    { benchIdleMemory },
    { benchUpload },
    { benchScale },
    { benchStartup },
    { benchFleet },
    { benchAudit },
  ] = await Promise.all([
    import('./sections/compress.mjs'),
    import('./sections/zstd.mjs'),
    import('./sections/memory.mjs'),
    import('./sections/idle-memory.mjs'),
    import('./sections/upload.mjs'),
    import('./sections/scale.mjs'),
    import('./sections/startup.mjs'),
    import('./sections/fleet.mjs'),
    import('./sections/audit.mjs'),
  ]);
  return {
    compress: benchCompress,
    zstd: benchZstd,
    memory: benchMemory,
    'idle-memory': benchIdleMemory,
    upload: benchUpload,
    scale: benchScale,
    startup: benchStartup,
    fleet: benchFleet,
    audit: benchAudit,
  };
}

const gitHead = () =>
  spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() || '?';
/** @param {Date} d */
const isoSeconds = (d) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The machine block of RESULTS.md.
 * @param {import('./lib/context.mjs').Bench} bench @param {Date} startedAt @param {string} loadAtStart
 */
function machineInfo({ opt, tools }, startedAt, loadAtStart) {
  const cpu = os.cpus()[0]?.model || 'unknown CPU';
  const v = (/** @type {'gzip' | 'pigz' | 'rclone' | 'aws' | 'hyperfine' | 'python3'} */ k) =>
    tools[k]?.version ?? `${k}: not installed`;
  const s3rverVersion = JSON.parse(
    fs.readFileSync(path.join(ROOT, 'node_modules/s3rver/package.json'), 'utf8'),
  ).version;
  return [
    `## Machine and tools`,
    ``,
    `Run ${isoSeconds(startedAt)}: \`${commandLine(opt)}\`, ${opt.rounds} rounds, ${opt.full ? '--full sizes' : 'default sizes'}.`,
    ``,
    `- ${os.availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`,
    `- ${v('gzip')}; ${v('pigz')}; ${v('rclone')}; ${v('aws')}${tools.aws ? ` (${tools.aws.cmd})` : ''}; ${v('hyperfine')}; ${v('python3')}; s3rver ${s3rverVersion}`,
    `- logjam @ ${gitHead()}: logjam-compress ${tools.logjamCompress ? 'built' : 'NOT BUILT (rows skipped)'}, logjam-upload ${tools.logjamUpload ? 'built' : 'NOT BUILT (rows skipped)'}`,
    `- load average at start ${loadAtStart}, at end ${loadavg()} (1/5/15 min). Anything above ~0.5 at start means other work shared the CPUs: timings are noisy, read medians and ranges.`,
  ].join('\n');
}

/** @param {string[]} argv @returns {Promise<number>} the exit code */
async function main(argv) {
  let parsed;
  try {
    parsed = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(e.message);
    console.log(USAGE);
    return 2;
  }
  if (parsed === 'help') {
    console.log(USAGE);
    return 0;
  }
  const opt = parsed;
  const startedAt = new Date();
  const loadAtStart = loadavg();
  mkdir(OUT);
  if (opt.build) {
    process.stderr.write('building (npm run build) ...\n');
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (b.status !== 0) {
      console.error('npm run build failed; fix the build or pass --no-build to bench what is already built');
      return 1;
    }
  }
  const tools = detectTools();
  /** @type {import('./lib/context.mjs').Bench} */
  const bench = {
    opt,
    size: sizesFor(opt),
    tools,
    proc: new Processes(tools.time !== null),
    report: new Report(),
    s3: new LazyS3(opt.server),
  };
  // An interrupted run leaves no process, and no store in memory, behind.
  process.on('SIGINT', () => {
    bench.proc.killAll();
    process.exit(130);
  });
  process.on('exit', () => bench.s3.stop());
  try {
    if (opt.profile) {
      const { profile } = await import('./sections/profile.mjs');
      await profile(bench, opt.profile);
      return 0;
    }
    return await runSections(bench, startedAt, loadAtStart);
  } finally {
    bench.s3.stop();
  }
}

/** @param {import('./lib/context.mjs').Bench} bench @param {Date} startedAt @param {string} loadAtStart */
async function runSections(bench, startedAt, loadAtStart) {
  const { opt, report } = bench;
  if ((os.loadavg()[0] ?? 0) > 0.5)
    console.error(`note: load average ${loadAtStart} — something else is using the CPUs; expect noisy timings`);
  const sections = await loadSections();
  const t0 = performance.now();
  let ok = true;
  const took = [];
  for (const s of SECTIONS) {
    if (!opt.only.includes(s)) continue;
    const s0 = performance.now();
    try {
      ok = (await sections[s](bench)) && ok;
    } catch (e) {
      ok = false;
      report.emit(s, `_Section ${s} aborted: ${String((e instanceof Error && e.stack) || e).split('\n')[0]}_\n`);
      console.error(e);
    }
    took.push(`${s} ${f((performance.now() - s0) / 1000, 0)} s`);
  }
  bench.s3.stop();
  const total = (performance.now() - t0) / 1000;
  const header =
    machineInfo(bench, startedAt, loadAtStart) +
    `\n- sections run: ${took.join(', ')}; total ${f(total / 60, 1)} min (corpus generation included when it was not cached yet).`;
  const targets = report.targetsTable();
  if (targets) process.stdout.write('\n' + targets);
  const complete = opt.only.length === SECTIONS.length;
  // upload-rgw: the upload section's tables with --server rgw.
  report.write([...SECTIONS, 'upload-rgw'], {
    header,
    complete,
    provenance: `_Measured ${isoSeconds(startedAt)} by \`${commandLine(opt)}\` at logjam ${gitHead()}; load average at start ${loadAtStart.split(' ')[0]}._`,
  });
  console.log(
    `\n${header}\n\nResults written to ${path.relative(ROOT, RESULTS)}; logs in ${path.relative(ROOT, LOGS)}/.`,
  );
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
