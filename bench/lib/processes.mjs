// Runs the measured commands, each in its own process group, its output in bench/out/logs/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { LOGS, ROOT } from './paths.mjs';
import { mkdir } from './util.mjs';

/**
 * @typedef {object} RunResult
 * @property {number} wall seconds, measured here
 * @property {number} cpu user + system seconds (/usr/bin/time), NaN without it
 * @property {number} rss peak RSS in MB (/usr/bin/time), NaN without it
 * @property {number} code exit code (128 + signal when killed)
 * @property {string} log the file holding its stdout and stderr
 */
/** @typedef {{ env?: Record<string, string | undefined>, cwd?: string, timeoutSec?: number }} RunOptions */

export class Processes {
  /** @param {boolean} timed whether /usr/bin/time is there to measure CPU and peak RSS */
  constructor(timed) {
    this.timed = timed;
    /** numbers the log files, in the order the commands ran */
    this.seq = 0;
    /** @type {Set<import('node:child_process').ChildProcess>} */
    this.live = new Set();
  }

  /** The next number for a log file of this run. */
  next() {
    return ++this.seq;
  }

  /** Kills every command still running (an interrupted bench leaves none behind). */
  killAll() {
    for (const c of this.live) killGroup(c);
  }

  /**
   * Run a command (under /usr/bin/time when present, for CPU and peak RSS), its
   * stdout+stderr into bench/out/logs/. Wall time is measured here.
   * @param {string} label
   * @param {string} cmd
   * @param {string[]} args
   * @param {RunOptions} [options]
   * @returns {Promise<RunResult>}
   */
  async run(label, cmd, args, { env = {}, cwd = ROOT, timeoutSec = 1800 } = {}) {
    mkdir(LOGS);
    const n = String(this.next()).padStart(4, '0');
    const log = path.join(LOGS, `${n}-${label.replace(/[^\w.-]+/g, '_')}.log`);
    const tfile = path.join(LOGS, `${n}.time`);
    const [c, a] = this.timed ? ['/usr/bin/time', ['-f', '%e %U %S %M', '-o', tfile, cmd, ...args]] : [cmd, args];
    const fd = fs.openSync(log, 'w');
    fs.writeSync(fd, `$ ${cmd} ${args.join(' ')}\n`);
    const t0 = performance.now();
    /** @type {Record<string, string | undefined>} */
    const fullEnv = { ...process.env, ...env };
    for (const k of Object.keys(fullEnv)) if (fullEnv[k] === undefined) delete fullEnv[k];
    const child = spawn(c, a, { cwd, env: fullEnv, stdio: ['ignore', fd, fd], detached: true });
    this.live.add(child);
    const timer = setTimeout(() => killGroup(child), timeoutSec * 1000);
    /** @type {number} */
    const code = await new Promise((res) =>
      child.on('close', (code, sig) => res(code ?? 128 + (sig ? os.constants.signals[sig] : 0))),
    );
    clearTimeout(timer);
    this.live.delete(child);
    const wall = (performance.now() - t0) / 1000;
    fs.closeSync(fd);
    let user = NaN,
      sys = NaN,
      rss = NaN;
    if (this.timed && fs.existsSync(tfile)) {
      const last = (fs.readFileSync(tfile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
      [, user = NaN, sys = NaN, rss = NaN] = last;
      rss /= 1024;
      fs.rmSync(tfile);
    }
    if (code !== 0) {
      const tail = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ');
      console.error(`  ! ${label}: exit ${code} (${path.relative(ROOT, log)}): ${tail.slice(0, 400)}`);
    }
    return { wall, cpu: user + sys, rss, code, log };
  }
}

/** @param {import('node:child_process').ChildProcess} child */
function killGroup(child) {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {}
}
