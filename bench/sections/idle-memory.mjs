// 2b. Idle memory: each service, in each form, once it has settled, beside an
// idle `node -e` on the same Node and an idle `rclone rcd`.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { SUFFIX, smallGzip, stamp } from '../lib/corpus.mjs';
import { DAY } from '../lib/corpora.mjs';
import { detectForms } from '../lib/forms.mjs';
import { LOGS, WORK } from '../lib/paths.mjs';
import { f, median, mkdir, rm } from '../lib/util.mjs';

/** How long each process runs before its memory is read: past start-up, a first pass and the service's settling. */
const SETTLE_SEC = 12;
/** The issue's bound: an idle service at most this many times its Node's own idle footprint. */
const RATIO = 1.3;

/** RSS, and its anonymous part, in MB, from /proc/PID/status. @param {number} pid */
function memoryOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (/** @type {string} */ key) => Number((status.match(new RegExp(`${key}:\\s+(\\d+)`)) || [])[1]) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

/**
 * Starts `cmd`, waits SETTLE_SEC, reads its memory, stops it.
 * @param {string} label @param {string} cmd @param {string[]} args @param {Record<string, string | undefined>} env
 * @returns {Promise<{ rss: number, anon: number }>}
 */
async function idleMemory(label, cmd, args, env = {}) {
  mkdir(LOGS);
  const out = fs.openSync(path.join(LOGS, `idle-memory-${label.replace(/[^\w.-]+/g, '_')}.log`), 'w');
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  const exited = new Promise((resolve) => child.on('close', resolve));
  await Promise.race([sleep(SETTLE_SEC * 1000), exited]);
  let mem = { rss: NaN, anon: NaN };
  try {
    mem = memoryOf(/** @type {number} */ (child.pid));
  } catch {} // it exited early: its row says so
  child.kill('SIGTERM');
  await exited;
  fs.closeSync(out);
  return mem;
}

/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchIdleMemory(bench) {
  const { opt, tools, report } = bench;
  report.emit('idle-memory', `## 2b. Idle memory, each form\n`);
  if (!tools.logjamCompress || !tools.logjamUpload) {
    report.emit('idle-memory', `_logjam not built: section skipped._\n`);
    return true;
  }
  const { forms, notes } = detectForms();
  const s3 = await bench.s3.start();
  const work = path.join(WORK, 'idle-memory');
  /** @type {Map<string, { rss: number, anon: number }[]>} */
  const seen = new Map();
  const add = (/** @type {string} */ key, /** @type {{ rss: number, anon: number }} */ m) =>
    void seen.set(key, [...(seen.get(key) ?? []), m]);
  /** @type {Map<string, number>} upload services whose first pass did not upload their one archive */
  const failedPasses = new Map();
  for (let r = 0; r < opt.rounds; r++) {
    process.stderr.write(`  idle-memory round ${r + 1}: ${forms.length} forms, ${SETTLE_SEC} s ...\n`);
    rm(work);
    // Side by side: every process of a round idles at the same time, in an order that rotates from round to round.
    /** @type {(() => Promise<void>)[]} */
    const jobs = [];
    for (const [i, form] of forms.entries()) {
      const logs = path.join(work, `f${i}`, 'logs');
      const archive = path.join(work, `f${i}`, 'archive');
      mkdir(logs);
      mkdir(archive);
      // Upload's service idles after one small pass, as a host's does between archives.
      fs.writeFileSync(path.join(archive, `nginx-${stamp(DAY(3))}-${SUFFIX}.log.gz`), smallGzip(3, 20, DAY(3)));
      const bucket = `idle-r${r}-f${i}`;
      await s3.freshBucket(bucket);
      const [compressCmd, compressArgs] = form.command('compress');
      const [uploadCmd, uploadArgs] = form.command('upload');
      jobs.push(
        async () =>
          add(
            `${form.name}\0compress`,
            await idleMemory(`r${r + 1}-${form.name}-compress`, compressCmd, [...compressArgs, logs], form.env),
          ),
        async () => {
          add(
            `${form.name}\0upload`,
            await idleMemory(
              `r${r + 1}-${form.name}-upload`,
              uploadCmd,
              [...uploadArgs, ...s3.logjamArgs(archive, bucket)],
              { ...s3.env(), ...form.env },
            ),
          );
          if (s3.count(bucket) !== 1) failedPasses.set(form.name, (failedPasses.get(form.name) ?? 0) + 1);
          s3.drop(bucket);
        },
      );
    }
    const nodes = [...new Set(forms.map((form) => form.node))];
    for (const node of nodes)
      jobs.push(async () =>
        add(
          `${node}\0node`,
          await idleMemory(`node-e-${path.basename(path.dirname(path.dirname(node)))}`, node, [
            '-e',
            'setInterval(() => {}, 1000)',
          ]),
        ),
      );
    if (tools.rclone)
      jobs.push(async () =>
        add(
          'rclone',
          await idleMemory('rclone-rcd', 'rclone', ['rcd', '--rc-no-auth', '--rc-addr', '127.0.0.1:0'], {
            RCLONE_CONFIG: '/dev/null',
          }),
        ),
      );
    const k = r % jobs.length;
    await Promise.all([...jobs.slice(k), ...jobs.slice(0, k)].map((job) => job()));
  }
  rm(work);
  const med = (/** @type {string} */ key, /** @type {'rss' | 'anon'} */ what = 'rss') =>
    median((seen.get(key) ?? []).map((m) => m[what]));
  /** @type {string[]} */
  const rows = [];
  let ok = true;
  for (const form of forms) {
    const node = med(`${form.node}\0node`);
    const cell = (/** @type {'compress' | 'upload'} */ binary) => {
      const rss = med(`${form.name}\0${binary}`);
      const met = rss <= RATIO * node && !(binary === 'upload' && failedPasses.has(form.name));
      ok &&= met;
      report.target(`idle-memory: ${form.name}, ${binary} service RSS ÷ node -e`, `≤ ${RATIO}`, rss / node, met);
      return `${f(rss, 0)} (${f(rss / node, 2)}×; anon ${f(med(`${form.name}\0${binary}`, 'anon'), 0)})${binary === 'upload' && failedPasses.has(form.name) ? ` **its pass failed in ${failedPasses.get(form.name)} of ${opt.rounds} rounds** (bench/out/logs/idle-memory-r*)` : ''}`;
    };
    rows.push(
      `| ${form.name} | ${cell('compress')} | ${cell('upload')} | ${f(node, 0)} (anon ${f(med(`${form.node}\0node`, 'anon'), 0)}) |`,
    );
  }
  report.emit(
    'idle-memory',
    `Resident memory (VmRSS, MB; its anonymous part, RssAnon, beside it) ${SETTLE_SEC} s after start: logjam-compress as a service on an empty LOG_DIR, logjam-upload as a service on an \`archive/\` of one small archive it uploads in its start-up pass (checked in the store), an idle \`node -e 'setInterval(() => {}, 1000)'\` on the same Node (for the executable: the Node it is built from) and an idle \`rclone rcd\`. All of a round idle at the same time, side by side; ${opt.rounds} rounds, median. The ratio is to \`node -e\`; target ≤ ${RATIO}×.\n`,
  );
  for (const note of notes) report.emit('idle-memory', `_${note}_\n`);
  report.emit(
    'idle-memory',
    `| form | compress service MB | upload service MB | \`node -e\` MB |\n|---|---|---|---|\n${rows.join('\n')}\n`,
  );
  if (tools.rclone)
    report.emit(
      'idle-memory',
      `Idle \`rclone rcd\`: ${f(med('rclone'), 0)} MB (anon ${f(med('rclone', 'anon'), 0)}).\n`,
    );
  return ok;
}
