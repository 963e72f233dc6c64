// 5. Start-up: --help and a --once pass with nothing to do, beside reference commands.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, LOGS, WORK } from '../lib/paths.mjs';
import { f, median, mkdir, rm, spread } from '../lib/util.mjs';

/** @typedef {{ name: string, argv: [string, ...string[]], env?: Record<string, string>, target: string }} Timed */

/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchStartup(bench) {
  const { tools, report } = bench;
  report.emit('startup', `## 5. Start-up\n`);
  const empty = path.join(WORK, 'startup', 'logs');
  const emptyArchive = path.join(WORK, 'startup', 'up', 'archive');
  rm(path.join(WORK, 'startup'));
  mkdir(empty);
  mkdir(emptyArchive);
  mkdir(LOGS);
  /** @type {Timed[]} */
  const cmds = [];
  const node = process.execPath;
  if (tools.logjamCompress) {
    cmds.push({ name: 'logjam-compress --help', argv: [node, CLI.compress, '--help'], target: '' });
    cmds.push({ name: 'logjam-compress --once (nothing to do)', argv: [node, CLI.compress, '--once', empty], target: '< 300 ms' });
  }
  if (tools.logjamUpload) {
    const s3 = await bench.s3.start();
    await s3.freshBucket('startup');
    cmds.push({ name: 'logjam-upload --help', argv: [node, CLI.upload, '--help'], target: '' });
    cmds.push({ name: 'logjam-upload --once (empty archive/, local s3rver)', argv: [node, CLI.upload, '--once', ...s3.logjamArgs(emptyArchive, 'startup')], env: s3.env(), target: '< 500 ms' });
  }
  if (!cmds.length) report.emit('startup', `_logjam not built: logjam rows skipped (wired, not measured)._\n`);
  cmds.push({ name: 'reference: node -e 0', argv: [node, '-e', '0'], target: '' });
  if (tools.gzip) cmds.push({ name: 'reference: gzip --version', argv: ['gzip', '--version'], target: '' });
  if (tools.rclone) cmds.push({ name: 'reference: rclone version', argv: ['rclone', 'version'], target: '' });
  if (tools.aws) cmds.push({ name: 'reference: aws --version', argv: [tools.aws.cmd, '--version'], target: '' });
  const rows = [];
  const runs = 15;
  for (const c of cmds) {
    process.stderr.write(`  startup: ${c.name} ... `);
    const env = { ...process.env, ...(c.env || {}) };
    const [cmd, ...args] = c.argv;
    /** @type {number[] | null} */
    let times = null;
    if (tools.hyperfine) {
      const json = path.join(LOGS, `hyperfine-${bench.proc.next()}.json`);
      const quoted = c.argv.map((s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)).join(' ');
      const r = spawnSync('hyperfine', ['-N', '--warmup', '3', '--runs', String(runs), '-i', '--export-json', json, quoted], { env, encoding: 'utf8' });
      if (r.status === 0) times = /** @type {{ results: { times: number[] }[] }} */ (JSON.parse(fs.readFileSync(json, 'utf8'))).results[0]?.times.map((t) => t * 1000) ?? null;
      else process.stderr.write(`hyperfine failed (${(r.stderr || '').trim().split('\n').pop()}), own loop ... `);
    }
    if (!times) {
      times = [];
      for (let i = 0; i < runs + 3; i++) {
        const t0 = performance.now();
        spawnSync(cmd, args, { env, stdio: 'ignore' });
        if (i >= 3) times.push(performance.now() - t0);
      }
    }
    const check = spawnSync(cmd, args, { env, stdio: 'ignore' });
    process.stderr.write(`${f(median(times), 0)} ms\n`);
    rows.push(`| ${c.name} | **${f(median(times), 0)}**${spread(times, 0)} | ${check.status} | ${c.target} |`);
    if (c.target) report.target(`start-up: ${c.name}, ms`, c.target, median(times), check.status === 0 && median(times) < Number(c.target.replace(/\D/g, '')), 0);
  }
  report.emit('startup', `Wall time, ${tools.hyperfine ? `hyperfine -N, 3 warm-ups, ${runs} runs` : `own loop, 3 warm-ups, ${runs} runs (hyperfine not installed)`}, median (min–max).\n`);
  report.emit('startup', `| command | ms | exit | target |\n|---|---|---|---|\n${rows.join('\n')}\n`);
  return true;
}
