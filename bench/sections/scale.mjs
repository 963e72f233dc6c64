// 4. Scale: one pass over 100,000 files, then each binary idle as a service on them.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { SUFFIX, smallGzip, stamp, writeLogFile } from '../lib/corpus.mjs';
import { DAY, cached } from '../lib/corpora.mjs';
import { CLI, LOGS, ROOT } from '../lib/paths.mjs';
import { f, median, mkdir, rm, spread, syncDisks } from '../lib/util.mjs';

const SCALE_PREFIXES = ['haproxy', 'nginx', 'api', 'web', 'auth', 'billing', 'search', 'cdn', 'mail', 'queue'];

/** @typedef {import('../lib/processes.mjs').RunResult & { ok: boolean, count?: number }} ScaleRun */

/** `archive/` with `total - 100` uploaded archives and their markers, plus 100 closed logs that `reset` puts back. @param {number} total */
async function corpusScale(total) {
  const pending = 100;
  const done = total - pending;
  const tiny = smallGzip(1, 2, DAY(1));
  const dir = await cached('scale', { n: total, pending }, (dir) => {
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

/** The inotify watches a process holds: one `inotify wd:` line per watch in /proc/PID/fdinfo. @param {number} pid */
function inotifyWatches(pid) {
  let watches = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {}
    if (target === 'anon_inode:inotify')
      watches += fs
        .readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('inotify ')).length;
  }
  return watches;
}

/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchScale(bench) {
  const { opt, size, tools, report } = bench;
  report.emit('scale', `## 4. Scale: ${size.scale.toLocaleString('en')} files\n`);
  if (!tools.logjamCompress && !tools.logjamUpload) {
    report.emit('scale', `_logjam not built: section skipped (wired, not measured)._\n`);
    return true;
  }
  const sc = await corpusScale(size.scale);
  const s3 = await bench.s3.start();
  /** @type {{ compress: ScaleRun[], upload: ScaleRun[] }} */
  const rows = { compress: [], upload: [] };
  for (let r = 0; r < opt.rounds; r++) {
    sc.reset();
    syncDisks();
    if (tools.logjamCompress) {
      process.stderr.write(`  scale round ${r + 1}: logjam-compress --once ... `);
      const run = await bench.proc.run(`scale-compress-${r + 1}`, process.execPath, [
        CLI.compress,
        '--once',
        '--jobs',
        String(opt.jobs),
        sc.logs,
      ]);
      const x = {
        ...run,
        ok: run.code === 0 && fs.readdirSync(sc.logs).filter((n) => n.endsWith('.log')).length === 0,
      };
      process.stderr.write(`${f(x.wall, 2)} s${x.ok ? '' : ' FAILED'}\n`);
      rows.compress.push(x);
    }
    if (tools.logjamUpload) {
      const p = `scale-r${r + 1}`;
      await s3.freshBucket(p);
      process.stderr.write(`  scale round ${r + 1}: logjam-upload --once ... `);
      const run = await bench.proc.run(
        `scale-upload-${r + 1}`,
        process.execPath,
        [CLI.upload, '--once', ...s3.logjamArgs(sc.archive, p), '--jobs', String(opt.uploadJobs)],
        { env: s3.env() },
      );
      const x = { ...run, count: s3.count(p), ok: run.code === 0 };
      process.stderr.write(`${f(x.wall, 2)} s, ${x.count} uploaded${x.ok ? '' : ' FAILED'}\n`);
      rows.upload.push(x);
      s3.drop(p);
    }
  }
  /** @param {string} name @param {ScaleRun[]} xs @param {(ok: ScaleRun[]) => string} extra */
  const line = (name, xs, extra) => {
    const ok = xs.filter((x) => x.ok);
    const x0 = /** @type {ScaleRun} */ (xs[0]);
    if (!ok.length) return `| ${name} | failed (exit ${x0.code}, ${path.relative(ROOT, x0.log)}) | | | |`;
    return `| ${name} | ${f(median(ok.map((x) => x.wall)), 2)}${spread(
      ok.map((x) => x.wall),
      2,
    )} | ${f(median(ok.map((x) => x.cpu)), 2)} | ${f(median(ok.map((x) => x.rss)), 0)} | ${extra(ok)} |`;
  };
  report.emit(
    'scale',
    `\`archive/\` holds ${(size.scale - sc.pending).toLocaleString('en')} archives, all with \`.uploaded/\` markers (${((size.scale - sc.pending) * 2).toLocaleString('en')} files), plus ${sc.pending} closed 10 KB logs to compress then upload each round. ${opt.rounds} rounds, median (min–max).\n`,
  );
  report.emit('scale', `| pass | wall s | CPU s | peak RSS MB | note |\n|---|---|---|---|---|`);
  if (tools.logjamCompress)
    report.emit(
      'scale',
      line(`logjam-compress --once (${sc.pending} due)`, rows.compress, () => ''),
    );
  if (tools.logjamUpload)
    report.emit(
      'scale',
      line(
        `logjam-upload --once (${sc.pending} pending)`,
        rows.upload,
        (ok) => `${median(ok.map((x) => x.count ?? NaN))} objects uploaded`,
      ),
    );
  report.emit('scale', '');

  // idle service CPU
  const win = size.idleSec;
  const interval = opt.full ? 60 : win;
  /** @type {string[]} */
  const idleRows = [];
  /** @param {string} name @param {string[]} args @param {Record<string, string | undefined>} env */
  const idle = async (name, args, env) => {
    mkdir(LOGS);
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', fs.openSync(path.join(LOGS, `idle-${name}.log`), 'w')],
    });
    const pid = /** @type {number} */ (child.pid);
    const ticks = () => {
      try {
        const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
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
    const rss = Number((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [])[1]) / 1024;
    const watches = inotifyWatches(pid);
    child.kill('SIGTERM');
    const code = await new Promise((res) => child.on('close', (c, sig) => res(c ?? sig)));
    idleRows.push(
      `| ${name} | ${f(b - a, 2)} | ${f(((b - a) * 60) / win, 2)} | ${f(rss, 0)} | ${watches} | exit ${code} on SIGTERM |`,
    );
    report.target(
      `idle: ${name} CPU s per 60 s${opt.full ? '' : ' (upper bound)'}`,
      '< 0.5',
      ((b - a) * 60) / win,
      ((b - a) * 60) / win < 0.5,
    );
  };
  if (tools.logjamCompress)
    await idle('logjam-compress (service)', [CLI.compress, '--interval', String(interval), sc.logs], {});
  if (tools.logjamUpload) {
    await s3.freshBucket('idle');
    await idle(
      'logjam-upload (service)',
      [CLI.upload, '--interval', String(interval), ...s3.logjamArgs(sc.archive, 'idle')],
      s3.env(),
    );
  }
  report.emit(
    'scale',
    `Service mode idle on the same folder (everything done), after its start-up pass and its first rescan (which reads the folder again: the start-up scan ran within 2 s of the lock file's creation, too soon to trust the folder's timestamps): CPU time (utime+stime from /proc) over ${win} s with \`--interval ${interval}\`${opt.full ? '' : ', scaled to 60 s — an upper bound, since the default --interval 60 rescans once a minute, not three times (`--full` measures 60 s at --interval 60)'}. Target: under 0.5 s per 60 s.\n`,
  );
  report.emit(
    'scale',
    `| service | CPU s in window | CPU s per 60 s | RSS MB | inotify watches | |\n|---|---|---|---|---|---|\n${idleRows.join('\n')}\n`,
  );
  return true;
}
