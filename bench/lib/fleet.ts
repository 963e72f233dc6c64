// The fleet section's measurements (run by bench/run.mjs as
// `node --import tsx bench/lib/fleet.ts JSON_SETTINGS OUT.jsonl`): the fleet
// simulation of test/support/fleet.ts, each configuration on fresh folders and
// keys, configurations alternating round by round. Appends one JSON line per
// run to OUT.jsonl as it ends, and prints it.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Fleet } from '../../test/support/fleet.ts';
import { s3rverEnv, startS3 } from '../../test/support/s3.ts';

interface Settings {
  hosts: number;
  archives: number;
  perSecond: number;
  burst: number;
  rounds: number;
  /** `together`: the hosts' first requests are held until all have sent one (no splay: the stampede). */
  configs: Array<{ name: string; args: string[]; together: boolean }>;
  /** New archives of the steady-state run (one host, everything before already uploaded). */
  steadyNew: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const out = process.argv[3];
if (!out) throw new Error('usage: fleet.ts JSON_SETTINGS OUT.jsonl');
const root = await fs.mkdtemp(path.join(os.tmpdir(), 'logjam-bench-fleet-'));
const bucket = 'fleet';
const s3 = await startS3({ buckets: [bucket] });
const env = s3rverEnv(root);
try {
  const fleet = new Fleet({
    root,
    s3,
    bucket,
    hosts: settings.hosts,
    archives: settings.archives,
    perSecond: settings.perSecond,
    burst: settings.burst,
    env,
  });
  for (let round = 1; round <= settings.rounds; round += 1) {
    const order = round % 2 ? settings.configs : [...settings.configs].reverse();
    for (const config of order) {
      const tag = `${config.name.replace(/\W+/g, '-')}-r${round}`;
      await fleet.prepare(tag);
      const first = await fleet.run({ tag, args: config.args, together: config.together });
      const second = first.notOk.length
        ? await fleet.run({ tag, args: config.args, together: config.together, only: first.notOk.map((h) => h.host) })
        : undefined;
      const landed = await fleet.check(tag);
      // Steady state: one host, everything before uploaded, a few new archives.
      await fleet.prepare(tag, { from: settings.archives, count: settings.steadyNew }, [fleet.hosts[0]!]);
      const steady = await fleet.run({
        tag,
        args: config.args.filter((a, i, all) => a !== '--splay' && all[i - 1] !== '--splay'),
        only: [fleet.hosts[0]!],
      });
      const line = `${JSON.stringify({
        config: config.name,
        round,
        hostsOk: first.ok.length,
        hosts: settings.hosts,
        secondRunOk: second ? second.ok.length : 0,
        secondRunHosts: first.notOk.length,
        expected: landed.expected,
        identical: landed.identical,
        missing: landed.missing.length,
        extra: landed.extra.length,
        corrupt: landed.corrupt.length,
        throttled: first.stats.throttled,
        retried: first.stats.retried,
        requests: first.stats.requests,
        byMethod: first.stats.byMethod,
        lastObjectS: first.lastObjectMs / 1000,
        wallS: first.wallMs / 1000,
        cpuS: first.cpuSeconds,
        secondRun: second ? { throttled: second.stats.throttled, requests: second.stats.requests } : null,
        steady: {
          newArchives: settings.steadyNew,
          requests: steady.stats.requests,
          byMethod: steady.stats.byMethod,
          ok: steady.ok.length === 1,
        },
        failures: first.notOk.slice(0, 2).map((h) => h.stderr.split('\n').filter(Boolean).slice(-2).join(' | ')),
      })}\n`;
      await fs.appendFile(out, line);
      process.stdout.write(line);
    }
  }
} finally {
  await s3.close();
  await fs.rm(root, { recursive: true, force: true });
}
