#!/usr/bin/env node
// logjam-compress: gzip every closed hourly log file into archive/ beside it.
// The command line to settings; run.ts does the work.
import { constants } from 'node:fs';
import { Command, Option } from 'clipanion';
import { checkBacklog, isDuration, isWholeNumber, LogjamCommand, readVersion, runProgram } from '@logjam/core';
import { parseFormat } from './format-option.js';
import { compressBacklog, compressIgnored } from './monitor.js';
import { defaultJobs } from './defaults.js';
import { checkDirs, runCompress } from './run.js';

export class CompressCommand extends LogjamCommand {
  static override paths = [Command.Default];
  static override wording = {
    backlog: 'the files due for compression',
    folders: 'LOG_DIR or archive/',
    childEnvironment: "HOME root's, no AWS_* variables",
  };

  static override usage = Command.Usage({
    description: 'gzip closed hourly log files into archive/ beside them, never losing a line',
    details: `
      Compresses each closed hourly log file of LOG_DIR into \`LOG_DIR/archive/NAME.gz\` (\`NAME.zst\` with \`--format zstd\`): written, synced, verified, and only then is the source deleted. With \`--once\`, one pass, then exit 0 (done, or nothing due), 1 (a file failed; the others were done) or 2 (something to fix: one line says what); without it, a service that rescans every \`--interval\` and stops on SIGTERM. \`--check\` is a Nagios plugin (0 OK, 1 WARNING, 3 UNKNOWN). Every flag but \`--check\` can be set as LOGJAM_<FLAG> (\`LOGJAM_MIN_AGE=120\`). Which files are closed, the exit codes and the rest: logjam's docs/logjam-compress.md.
    `,
    examples: [
      ['Compress what is due once, from cron', '$0 --once /var/log/hourly'],
      ['Run as a service on two directories', '$0 /var/log/haproxy /var/log/nginx'],
      [
        'Fast and light: level 1, four files at a time, JSON logs',
        '$0 --once --level 1 --jobs 4 --log-format json /var/log/hourly',
      ],
      ['Nagios / Sensu check: is anything due for more than 2 hours?', '$0 --check --max-age 2h /var/log/hourly'],
      ['As root, in a directory owned by www-data: do the work as www-data', '$0 --once --user www-data /var/log/app'],
      [
        'From cron, with metrics for node_exporter',
        '$0 --once --metrics-file /var/lib/node_exporter/textfile_collector/logjam_compress.prom /var/log/hourly',
      ],
    ],
  });

  once = Option.Boolean('--once', false, {
    description: 'Do one pass over each directory, then exit (for cron); without it, run as a service',
  });

  // Checked with --format (format-option.ts): the level's range is the format's.
  level = Option.String('--level', {
    description: 'Compression level: gzip 1 (fastest) to 9 (smallest) (default: 6); zstd 1 to 19 (default: 3)',
  });

  format = Option.String('--format', 'gzip', {
    description:
      "Archive format: gzip (NAME.gz, the Python tool's) or zstd (NAME.zst, one frame; needs Node 22.15 or later) (default: gzip)",
  });

  minAgeMs = Option.String('--min-age', '60', {
    description:
      'Leave a closed file alone until its mtime is this old (seconds, or 90s, 2m), as its writer may still be flushing; 0 disables (default: 60)',
    validator: isDuration('--min-age'),
  });

  jobs = Option.String('--jobs', {
    description:
      'Compress up to this many files, and this many 4 MiB blocks (cores), at once (default: the number of CPUs)',
    validator: isWholeNumber('--jobs', 1, 1024),
  });

  intervalMs = Option.String('--interval', '60', {
    description:
      'In service mode, rescan every directory this often (seconds, or 30s, 5m), as a safety net (default: 60)',
    validator: isDuration('--interval', { minMs: 1000 }),
  });

  verify = Option.Boolean('--verify', true, {
    description:
      'Decompress each archive and compare its length and CRC-32 with the source before deleting the source; --no-verify skips this (default: on)',
  });

  dirs = Option.Rest({ name: 'LOG_DIR', required: 1 });

  async run(): Promise<number> {
    const { format, level } = parseFormat(this.format, this.level);
    if (this.check) {
      this.sayEnvWarnings();
      return checkCompress(this.dirs, { minAgeMs: this.minAgeMs, maxAgeMs: this.maxAgeMs });
    }
    return this.withTools(
      { progressLabel: this.once ? 'compressed' : undefined, report: true, directory: this.dirs.join(' ') },
      ({ log, reporter, progress }) =>
        runCompress({
          dirs: this.dirs,
          once: this.once,
          level,
          format,
          verify: this.verify,
          minAgeMs: this.minAgeMs,
          intervalMs: this.intervalMs,
          jobs: this.jobs ?? defaultJobs(),
          jobsGiven: this.jobs !== undefined,
          metricsFile: this.metricsFile,
          log,
          reporter,
          progress,
          permissionRule: this.permissionRule,
        }),
    );
  }
}

/** --check: what is due for compression, said on stdout as a Nagios plugin says it; its exit code. */
async function checkCompress(given: string[], ages: { minAgeMs: number; maxAgeMs: number }): Promise<number> {
  const dirs = await checkDirs(given, constants.R_OK | constants.X_OK);
  const now = Date.now();
  const result = checkBacklog(await compressBacklog(dirs, now, ages.minAgeMs), {
    now,
    maxAgeMs: ages.maxAgeMs,
    waitingFor: 'due for compression',
    ignored: await compressIgnored(dirs),
  });
  process.stdout.write(result.text);
  return result.code;
}

// No top-level await: the self-contained executable bundles this module as CommonJS.
void runProgram({
  binaryName: 'logjam-compress',
  binaryVersion: readVersion(import.meta.url),
  commands: [CompressCommand],
  help: {
    valueNames: {
      '--format': 'gzip|zstd',
      '--level': 'N',
      '--min-age': 'DURATION',
      '--jobs': 'N',
      '--interval': 'DURATION',
      '--max-age': 'DURATION',
      '--metrics-file': 'PATH',
      '--user': 'USER[:GROUP]',
    },
    usage: [
      '[--once] [--format gzip|zstd] [--level N] [--min-age DURATION] [--jobs N] [--metrics-file PATH] [--user USER] [--log-level LEVEL] LOG_DIR...',
      '--check [--max-age DURATION] LOG_DIR...',
    ],
  },
});
