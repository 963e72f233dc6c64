#!/usr/bin/env node
// logjam-compress: gzip every closed hourly log file into archive/ beside it.
// The command line to settings; run.ts does the work.
import { constants } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'clipanion';
import { checkBacklog, handOverToUser, LogjamCommand, parseDuration, parseInteger, readVersion, runProgram } from '@logjam/core';
import { compressBacklog } from './monitor.js';
import { defaultJobs } from './defaults.js';
import { checkDirs, runCompress } from './run.js';

export class CompressCommand extends LogjamCommand {
  static override paths = [Command.Default];

  static override usage = Command.Usage({
    description: 'gzip closed hourly log files into archive/ beside them, never losing a line',
    details: `
      Log files are named \`PREFIX-STAMP[-SUFFIX].EXTENSION\`, STAMP being a UTC \`YYYYMMDDTHHMMZ\` (dashes and a colon allowed). A file is closed when a newer file of its group (same prefix, suffix and extension) exists, or when its stamp is more than 1 hour 5 minutes old; it is compressed once its mtime is at least \`--min-age\` seconds old.

      Each file is gzipped into a temporary file in \`LOG_DIR/archive/\`, synced, verified (decompressed and compared by length and CRC-32), then published as \`archive/NAME.gz\` (an existing archive is never replaced), and only then is the source deleted. An archive of the same name with other content makes the new one \`PREFIX-logjam-compress-duplicate-timestamp[-NN]-STAMP[-SUFFIX]EXT.gz\`.

      With \`--once\` it does one pass and exits: 0 when everything due was done (or nothing was due), 1 when any file failed, 2 for a usage error. Without it, it runs as a service: it reacts to new files and to the clock, rescans every \`--interval\` seconds, and exits 0 on SIGTERM or SIGINT after finishing or rolling back the file in progress.

      One instance per directory: a lock file \`LOG_DIR/.logjam-compress.lock\` holds the owner's pid. With \`--once\` a lock held by a running logjam-compress means the directory is skipped, said at WARN and counted in the metrics (exit 0); a service waits for it. A lock left by a dead process is taken over at once; one holding anything else once it is 10 s old, said at WARN.

      Root in a directory others can write: no link is ever followed (\`archive/\` is opened once without following a link and used through its descriptor); \`archive/\` or the lock as a link or not what it should be is a configuration error for that directory (one line, exit 2; the other directories are done). LOG_DIR is walked from / without following a link (a link in its path is refused) and held by descriptor. As root, a LOG_DIR or \`archive/\` owned by another user or writable by a group other than root's or by every user, or below a folder another user owns or can write (a root-owned sticky one like /tmp excepted), is refused, as logrotate does, unless \`--user USER[:GROUP]\` says who to do the work as (a child process started as that user does it all) or \`--insecure-permissions\` accepts the risk.

      Logs go to stderr; stdout stays empty. With \`--once\` at a terminal, a progress bar (files, bytes, rate, ETA) shows on stderr; never when stderr is not a terminal (cron, runit, systemd).

      Monitoring: \`--check\` prints what is due for compression and exits 0 (OK) when the oldest due file has been due for less than \`--max-age\`, 1 (WARNING) when longer, 2 for a usage error (Nagios / Sensu plugin convention); it reads only, takes no lock. \`--metrics-file PATH\` rewrites PATH after every pass in the Prometheus text format (node_exporter's textfile collector). With SENTRY_DSN set, every error that fails a file, a directory or the start is reported to Sentry, tagged with the directory and the file.

      libuv's threadpool (zlib, file I/O) is sized to \`--jobs\` + 2 threads (at least 4) at start; an explicit UV_THREADPOOL_SIZE in the environment wins.

      Every flag can also be set in the environment as LOGJAM_<FLAG>: \`LOGJAM_LEVEL=9\`, \`LOGJAM_MIN_AGE=120\`, \`LOGJAM_ONCE=1\`, \`LOGJAM_VERIFY=0\` (switches take 1/0, true/false, yes/no, on/off). A flag on the command line wins; a bad value is a usage error naming the variable.
    `,
    examples: [
      ['Compress what is due once, from cron', '$0 --once /var/log/hourly'],
      ['Run as a service on two directories', '$0 /var/log/haproxy /var/log/nginx'],
      ['Fast and light: level 1, four files at a time, JSON logs', '$0 --once --level 1 --jobs 4 --log-format json /var/log/hourly'],
      ['Nagios / Sensu check: is anything due for more than 2 hours?', '$0 --check --max-age 2h /var/log/hourly'],
      ['As root, in a directory owned by www-data: do the work as www-data', '$0 --once --user www-data /var/log/app'],
      ['From cron, with metrics for node_exporter', '$0 --once --metrics-file /var/lib/node_exporter/textfile_collector/logjam_compress.prom /var/log/hourly'],
    ],
  });

  once = Option.Boolean('--once', false, {
    description: 'Do one pass over each directory, then exit (for cron); without it, run as a service',
  });

  level = Option.String('--level', '6', {
    description: 'gzip compression level, 1 (fastest) to 9 (smallest) (default: 6)',
  });

  minAge = Option.String('--min-age', '60', {
    description: 'Leave a closed file alone until its mtime is this many seconds old, as its writer may still be flushing; 0 disables (default: 60)',
  });

  jobs = Option.String('--jobs', {
    description: 'Compress up to this many files, and this many 4 MiB blocks (cores), at once (default: the number of CPUs)',
  });

  interval = Option.String('--interval', '60', {
    description: 'In service mode, rescan every directory this often, in seconds, as a safety net (default: 60)',
  });

  verify = Option.Boolean('--verify', true, {
    description: 'Decompress each archive and compare its length and CRC-32 with the source before deleting the source; --no-verify skips this (default: on)',
  });

  check = Option.Boolean('--check', false, {
    description: 'Print what is due for compression and exit 0 if the oldest due file is younger than --max-age, 1 if older (a Nagios / Sensu check); reads only, no lock (default: off)',
  });

  maxAge = Option.String('--max-age', '2h', {
    description: 'With --check: the age of the oldest due file beyond which the check fails, such as 90m, 2h, 1d or seconds (default: 2h)',
  });

  metricsFile = Option.String('--metrics-file', {
    description: "After every pass, rewrite this file atomically with metrics in the Prometheus text format, for node_exporter's textfile collector (default: none)",
  });

  user = Option.String('--user', {
    description:
      "USER[:GROUP]: do all the work as this user (and group; default: the user's own), in a child process that becomes that user as su does (its supplementary groups kept, HOME root's, no AWS_* variables): root then never opens, writes or deletes a file in LOG_DIR itself; for a LOG_DIR other users can write (default: the user running logjam-compress)",
  });
  insecurePermissions = Option.Boolean('--insecure-permissions', false, {
    description:
      "As root without --user, work in a LOG_DIR (or archive/) that a group other than root's, or every user, can write, accepting that they could try to make root write elsewhere (default: refuse such a directory, as logrotate does)",
  });
  dirs = Option.Rest({ name: 'LOG_DIR', required: 1 });

  async run(): Promise<number> {
    const maxAgeMs = parseDuration('--max-age', this.maxAge);
    const minAgeMs = parseDuration('--min-age', this.minAge);
    const level = parseInteger('--level', this.level, 1, 9);
    const jobs = this.jobs === undefined ? defaultJobs() : parseInteger('--jobs', this.jobs, 1, 1024);
    const intervalMs = parseDuration('--interval', this.interval, { minMs: 1000 });
    if (this.user !== undefined) {
      const code = await handOverToUser(this.user);
      if (code !== null) return code;
    }
    if (this.check) {
      const dirs = await checkDirs(this.dirs, constants.R_OK | constants.X_OK);
      const now = Date.now();
      const result = checkBacklog(await compressBacklog(dirs, now, minAgeMs), { now, maxAgeMs, waitingFor: 'due for compression' });
      process.stdout.write(result.text);
      return result.code;
    }
    return this.withTools({ progressLabel: this.once ? 'compressed' : undefined, report: true, directory: this.dirs.join(' ') }, ({ log, reporter, progress }) =>
      runCompress({
        dirs: this.dirs,
        once: this.once,
        level,
        verify: this.verify,
        minAgeMs,
        intervalMs,
        jobs,
        jobsGiven: this.jobs !== undefined,
        metricsFile: this.metricsFile === undefined ? undefined : path.resolve(this.metricsFile),
        log,
        reporter,
        progress,
        permissionRule: this.user === undefined && !this.insecurePermissions,
      }),
    );
  }
}

// No top-level await: the self-contained executable bundles this module as CommonJS.
void runProgram({ binaryName: 'logjam-compress', binaryVersion: readVersion(import.meta.url), commands: [CompressCommand] });
