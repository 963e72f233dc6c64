// The fleet simulation: H hosts, each a logjam-upload process of its own with
// its own archive folder and host name, all started together (as one cron
// line starts a fleet) against the throttling front (proxy.ts: S3's per-prefix
// rate, 503 SlowDown beyond it, If-None-Match honoured) in front of s3rver.
// Every host's archives share one key prefix (the host is in the file name,
// as with `haproxy-...-web017.log.gz` under {prefix}/{year}/{month}/{day}/),
// the worst case for S3's partitioning. Used by the reliability suite (small)
// and by `npm run bench -- --only fleet` (40 hosts).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { binaries, compactStamp, repoRoot } from './index.ts';
import { startFaultProxy, type ProxyStats } from './proxy.ts';
import type { TestS3 } from './s3.ts';

const HOUR = 3_600_000;
const CPU_REPORT = path.join(repoRoot, 'test/support/cpu-report.cjs');

export interface FleetSettings {
  /** Where the hosts' folders go (one `HOST/archive/` each). */
  root: string;
  s3: TestS3;
  bucket: string;
  hosts: number;
  /** Archives per host, hourly, all of one day (one key prefix). */
  archives: number;
  /** Bytes per archive (default 4 KiB). */
  archiveBytes?: number;
  /** The front's admitted requests per second and key prefix. */
  perSecond: number;
  /** Requests a prefix may send at once after a quiet spell (default: perSecond). */
  burst?: number;
  /** The environment every host runs with (credentials, region). */
  env: NodeJS.ProcessEnv;
}

export interface FleetRunSettings {
  /** logjam-upload flags besides --once, the endpoint and the host name (e.g. ['--splay', '20']). */
  args: string[];
  /** Which hosts run (default: all); a second run passes the ones that did not finish. */
  only?: string[];
  /**
   * Hold the hosts' first requests until every host has sent one, then let them
   * through together: the same second for the whole fleet, as cron gives hosts
   * that each have their own CPU, which the processes of one machine do not.
   */
  together?: boolean;
  /** A label under which this configuration's keys go (each configuration its own). */
  tag: string;
}

export interface FleetRun {
  /** Hosts whose run exited 0, and the ones that did not. */
  ok: string[];
  notOk: Array<{ host: string; code: number | null; stderr: string }>;
  /** The front's counts: requests by method, 503s sent, SDK retries seen. */
  stats: ProxyStats;
  /** From the start until the last object landed (ms), or until the last host exited when none did. */
  lastObjectMs: number;
  /** Until the last host exited (ms). */
  wallMs: number;
  /** CPU seconds of all the hosts together. */
  cpuSeconds: number;
}

export interface FleetCheck {
  expected: number;
  /** Expected keys present with the archive's very bytes. */
  identical: number;
  missing: string[];
  /** Keys present that no archive maps to (a conflict key: an object written twice). */
  extra: string[];
  corrupt: string[];
}

export const hostName = (i: number) => `host-${String(i).padStart(3, '0')}`;
const archiveName = (host: string, hourStart: number) => `app-${compactStamp(hourStart)}-${host}.log.gz`;

/** Bytes unique to a host and an hour. */
function archiveBytes(host: string, hourStart: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let seed = createHash('sha256').update(`${host}/${hourStart}`).digest();
  for (let at = 0; at < size; at += seed.length) {
    seed.copy(out, at);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

export class Fleet {
  readonly hosts: string[];
  /** The first hour of the archives' day (UTC). */
  private readonly day = Math.floor((Date.now() - 2 * 86_400_000) / 86_400_000) * 86_400_000;

  constructor(private readonly settings: FleetSettings) {
    this.hosts = Array.from({ length: settings.hosts }, (_, i) => hostName(i + 1));
  }

  private dir(tag: string, host: string): string {
    return path.join(this.settings.root, tag, host, 'archive');
  }

  /**
   * Writes the hosts' archives for a configuration: hours [from, from + count) of
   * the day (default: the first `archives`), beside what is there already.
   */
  async prepare(
    tag: string,
    hours: { from: number; count: number } = { from: 0, count: this.settings.archives },
    hosts = this.hosts,
  ): Promise<void> {
    for (const host of hosts) {
      const dir = this.dir(tag, host);
      await fs.mkdir(dir, { recursive: true });
      for (let h = hours.from; h < hours.from + hours.count; h += 1) {
        const hour = this.day + h * HOUR;
        await fs.writeFile(
          path.join(dir, archiveName(host, hour)),
          archiveBytes(host, hour, this.settings.archiveBytes ?? 4096),
        );
      }
    }
  }

  template(tag: string): string {
    return `s3://${this.settings.bucket}/${tag}/{prefix}/{year}/{month}/{day}/{filename}`;
  }

  /** Starts the chosen hosts together behind a fresh front, and waits for every one to exit. */
  async run(run: FleetRunSettings): Promise<FleetRun> {
    const hosts = run.only ?? this.hosts;
    const front = await startFaultProxy({
      target: this.settings.s3.endpoint,
      conditionalWrites: true,
      throttle: { perSecond: this.settings.perSecond, ...(this.settings.burst ? { burst: this.settings.burst } : {}) },
      ...(run.together ? { holdFirst: hosts.length } : {}),
    });
    const cpuFile = path.join(this.settings.root, `${run.tag}-cpu-${Date.now()}.txt`);
    const started = Date.now();
    try {
      const results = await Promise.all(
        hosts.map(
          (host) =>
            new Promise<{ host: string; code: number | null; stderr: string }>((resolve, reject) => {
              // The front answers If-None-Match as S3 does; against AWS no probe runs, so none here either.
              const args = [
                '--require',
                CPU_REPORT,
                binaries['logjam-upload'],
                '--once',
                '--log-level',
                'warn',
                '--hostname',
                host,
                '--endpoint-url',
                front.endpoint,
                '--force-path-style',
                '--conditional-writes',
                'yes',
                ...run.args,
                this.dir(run.tag, host),
                this.template(run.tag),
              ];
              const child = spawn(process.execPath, args, {
                env: { ...this.settings.env, LOGJAM_CPU_REPORT: cpuFile },
                stdio: ['ignore', 'ignore', 'pipe'],
              });
              let stderr = '';
              child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
              child.on('error', reject);
              child.on('close', (code) => resolve({ host, code, stderr }));
            }),
        ),
      );
      const wallMs = Date.now() - started;
      const cpu = await fs.readFile(cpuFile, 'utf8').catch(() => '');
      return {
        ok: results.filter((r) => r.code === 0).map((r) => r.host),
        notOk: results.filter((r) => r.code !== 0),
        stats: { ...front.stats, byMethod: { ...front.stats.byMethod } },
        lastObjectMs: front.stats.lastWriteAt === undefined ? wallMs : front.stats.lastWriteAt - started,
        wallMs,
        cpuSeconds: cpu.trim()
          ? cpu
              .trim()
              .split('\n')
              .map(Number)
              .reduce((a, b) => a + b, 0)
          : NaN,
      };
    } finally {
      await front.close();
    }
  }

  /** What landed for a configuration: every archive's key (of the first `hours` of the day), exactly once, byte for byte. */
  async check(tag: string, hours = this.settings.archives): Promise<FleetCheck> {
    const expected = new Map<string, Buffer>();
    for (const host of this.hosts) {
      for (let h = 0; h < hours; h += 1) {
        const hour = this.day + h * HOUR;
        const date = new Date(hour).toISOString().slice(0, 10).split('-');
        expected.set(
          `${tag}/app/${date.join('/')}/${archiveName(host, hour)}`,
          archiveBytes(host, hour, this.settings.archiveBytes ?? 4096),
        );
      }
    }
    const present = new Set(await this.settings.s3.keys(this.settings.bucket, `${tag}/`));
    const result: FleetCheck = {
      expected: expected.size,
      identical: 0,
      missing: [],
      extra: [...present].filter((key) => !expected.has(key)),
      corrupt: [],
    };
    for (const [key, bytes] of expected) {
      if (!present.has(key)) result.missing.push(key);
      else if ((await this.settings.s3.download(this.settings.bucket, key)).equals(bytes)) result.identical += 1;
      else result.corrupt.push(key);
    }
    return result;
  }
}
