// 6. Fleet: H hosts (separate logjam-upload processes) started together against a
// front that throttles as S3 does, per key prefix (test/support/fleet.ts, run
// by bench/lib/fleet.ts under tsx); configurations alternate round by round.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { HERE, LOGS, ROOT } from '../lib/paths.mjs';
import { f, median, mkdir, spread } from '../lib/util.mjs';

// 40 hosts x (HeadBucket, LIST, 6 PUTs) under one prefix against 25 requests/s is
// about 11 s of the front's capacity, as 10,000 hosts x 3 new archives against
// S3's 3,500 PUT/s is 8.6 s (docs/fleets.md): the ratio that matters.
/**
 * One run of one configuration, as bench/lib/fleet.ts writes it.
 * @typedef {{ config: string, hosts: number, hostsOk: number, secondRunOk: number, expected: number, identical: number, missing: number, extra: number, corrupt: number, throttled: number, retried: number, requests: number, lastObjectS: number, cpuS: number, steady: { requests: number } }} FleetRun
 */
const FLEET = { hosts: 40, archives: 6, perSecond: 25, burst: 25, splay: 60, steadyNew: 3 };
/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchFleet(bench) {
  const { opt, tools, report } = bench;
  report.emit('fleet', `## 6. Fleet: ${FLEET.hosts} hosts at the top of the hour\n`);
  if (!tools.logjamUpload) {
    report.emit('fleet', `_logjam not built: section skipped (wired, not measured)._\n`);
    return true;
  }
  const configs = [
    { name: 'defaults (standard retries)', args: [], together: true },
    { name: '--retry-mode adaptive', args: ['--retry-mode', 'adaptive'], together: true },
    { name: `--splay ${FLEET.splay}`, args: ['--splay', String(FLEET.splay)], together: false },
  ];
  const rounds = Math.min(opt.rounds, 2);
  const settings = { ...FLEET, rounds, configs };
  process.stderr.write(`  fleet: ${configs.length} configurations x ${rounds} rounds ...\n`);
  // One JSON line per run, appended as each ends: a long section's figures survive whatever comes after.
  mkdir(LOGS);
  const jsonl = path.join(LOGS, `fleet-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(HERE, 'lib/fleet.ts'), JSON.stringify(settings), jsonl],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (out.status !== 0) throw new Error(`bench/lib/fleet.ts exited ${out.status}`);
  /** @type {FleetRun[]} */
  const runs = fs
    .readFileSync(jsonl, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const rows = [];
  const by = new Map(configs.map((c) => [c.name, runs.filter((r) => r.config === c.name)]));
  const med = (/** @type {FleetRun[]} */ rs, /** @type {(r: FleetRun) => number} */ k) => median(rs.map(k));
  for (const [name, rs] of by) {
    const exact = rs.every((r) => r.identical === r.expected && !r.missing && !r.extra && !r.corrupt);
    const allIn = rs.every((r) => r.hostsOk + r.secondRunOk === r.hosts);
    rows.push(
      `| ${name} | ${exact ? 'yes' : '**no**'} (${rs.map((r) => r.identical).join(', ')} of ${rs[0]?.expected}) | ${rs.map((r) => `${r.hostsOk}/${r.hosts}`).join(', ')} | ${allIn ? 'yes' : '**no**'} | **${f(
        med(rs, (r) => r.throttled),
        0,
      )}**${spread(
        rs.map((r) => r.throttled),
        0,
      )} | ${f(
        med(rs, (r) => r.retried),
        0,
      )}${spread(
        rs.map((r) => r.retried),
        0,
      )} | ${f(
        med(rs, (r) => r.requests),
        0,
      )} | ${f(
        med(rs, (r) => r.lastObjectS),
        1,
      )}${spread(
        rs.map((r) => r.lastObjectS),
        1,
      )} | ${f(
        med(rs, (r) => r.cpuS),
        1,
      )} | ${rs.map((r) => r.steady.requests).join(', ')} |`,
    );
  }
  const t = (/** @type {string} */ name) => med(by.get(name) ?? [], (r) => r.throttled);
  const [plain, , splayed] = configs.map((c) => c.name);
  const cut = t(plain ?? '') / Math.max(1, t(splayed ?? ''));
  const nothingLost = runs.every(
    (r) => r.identical === r.expected && !r.missing && !r.extra && !r.corrupt && r.hostsOk + r.secondRunOk === r.hosts,
  );
  report.target(
    'fleet: nothing lost or doubled, all uploaded within two runs (every configuration, every round)',
    'yes',
    nothingLost ? 1 : 0,
    nothingLost,
    0,
  );
  report.target(`fleet: 503s without splay / with --splay ${FLEET.splay}`, '>= 10', cut, cut >= 10, 1);
  const steady = median(runs.map((r) => r.steady.requests));
  report.target(
    `fleet: requests of a steady-state run with ${FLEET.steadyNew} new archives`,
    `<= ${FLEET.steadyNew + 1}`,
    steady,
    steady <= FLEET.steadyNew + 1,
    0,
  );
  report.emit(
    'fleet',
    `${FLEET.hosts} hosts, each a logjam-upload --once process with its own \`archive/\` of ${FLEET.archives} hourly archives (4 KiB) and its own \`--hostname\`, started together: without a splay the front holds the first requests until every host has sent one, then lets them all through at once (the same second, as cron gives hosts that each have their own CPU; this machine's 2 cores start 40 processes over many seconds); with \`--splay\` nothing is held and each host comes at its offset. All keys under one prefix (\`{prefix}/{year}/{month}/{day}/{filename}\`, the host in the file name), the worst case. In front of s3rver, the throttling front of the tests (test/support/proxy.ts): a token bucket of ${FLEET.perSecond} requests/s per key prefix (bursts of ${FLEET.burst}), \`503 SlowDown\` (S3's XML) beyond it, \`If-None-Match: *\` honoured. Hosts that did not exit 0 run a second time (the next hour's run). ${rounds} rounds, configurations alternating; median (min–max). 503s, retries and requests are the front's counts for the first run; *last object* is from the start of the processes to the last object landing (start-up and, without a splay, the wait for every host's first request included); CPU is the hosts' user+system. *Steady state*: afterwards one host with ${FLEET.steadyNew} new archives runs once (no splay), its requests counted. Scale: ${FLEET.hosts} hosts x ${FLEET.archives + 2} requests under one prefix against ${FLEET.perSecond}/s is ~${f((FLEET.hosts * (FLEET.archives + 2)) / FLEET.perSecond, 0)} s of capacity, as 10,000 hosts x 3 PUTs against S3's 3,500/s is 8.6 s; the splay is ${FLEET.splay} s (~${f((FLEET.hosts * (FLEET.archives + 2)) / FLEET.splay, 1)} requests/s on average against ${FLEET.perSecond}/s), as 600 s is for 10,000 hosts (docs/fleets.md).\n`,
  );
  report.emit(
    'fleet',
    `| configuration | objects exactly once, byte-identical | hosts exit 0 on first run | all in after 2 runs | 503s | retries | requests | last object s | CPU s | steady-state requests |\n|---|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
  report.emit(
    'fleet',
    `503s without splay / with --splay ${FLEET.splay}: ${f(t(plain ?? ''), 0)} / ${f(t(splayed ?? ''), 0)}, **${t(splayed ?? '') > 0 ? '' : 'at least '}${f(cut, 1)}x** fewer.\n`,
  );
  // Requests per hourly run, logjam against rclone (docs/fleets.md prices them).
  const counted = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(HERE, 'lib/request-counts.ts'), ...(tools.rclone ? [tools.rclone.cmd] : [])],
    {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (counted.status !== 0) throw new Error(`bench/lib/request-counts.ts exited ${counted.status}`);
  const methods = (/** @type {Record<string, number>} */ m) =>
    Object.entries(m)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const total = (/** @type {Record<string, number>} */ m) => Object.values(m).reduce((a, b) => a + b, 0);
  const countRows = counted.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .map(
      (r) => `| ${r.tool} | ${methods(r.first)} (${total(r.first)}) | ${methods(r.steady)} (**${total(r.steady)}**) |`,
    );
  report.emit(
    'fleet',
    `Requests per run, counted by the proxy in front of s3rver: three log types (\`app\`, \`db\`, \`web\`), each under its own key folder; a first run with 7 hours (21 archives), then a run with one more hour (3 new archives among 24). GET is ListObjectsV2 here. The proxy answers \`If-None-Match\` as S3 does (s3rver ignores it): logjam, told so with \`--conditional-writes yes\`, PUTs first, as against AWS (where no probe runs); with \`--conditional-writes no\` (a store without them) it sends a HEAD before each PUT. Left at \`auto\` against a custom endpoint, a run with files to upload adds the probe's 7 requests here${tools.rclone ? '' : '; rclone not installed (apt-get install rclone): its row is skipped'}.\n`,
  );
  report.emit(
    'fleet',
    `| tool | first run (21 archives) | next run (3 new) |\n|---|---|---|\n${countRows.join('\n')}\n`,
  );
  return nothingLost;
}
