// The command line of `npm run bench`.
import os from 'node:os';

/** The sections, in the order a full run measures them. */
export const SECTIONS = /** @type {const} */ ([
  'compress',
  'zstd',
  'memory',
  'idle-memory',
  'upload',
  'scale',
  'startup',
  'fleet',
  'audit',
]);
/** @typedef {(typeof SECTIONS)[number]} Section */

/**
 * @typedef {object} Options
 * @property {boolean} full larger sizes (1 GB)
 * @property {number} rounds rounds per comparison
 * @property {Section[]} only the sections to run
 * @property {number} jobs logjam-compress --jobs and pigz -p
 * @property {number} uploadJobs logjam-upload --jobs, rclone --transfers, raw baseline concurrency
 * @property {boolean} build run npm run build first
 * @property {'compress' | 'upload' | null} profile profile this binary instead of benchmarking
 * @property {'s3rver' | 'rgw'} server the upload section's server
 * @property {string[]} nodes other Nodes whose runs of the npm install get upload rows of their own
 * @property {string | null} exe the executable's logjam-upload (npm run package), for upload rows of its own
 * @property {string[]} argv the arguments as given, for the results' provenance
 */

export const USAGE = `usage: npm run bench -- [--full] [--rounds N] [--only ${SECTIONS.join(',')}]
                       [--jobs N] [--upload-jobs N] [--no-build] [--profile compress|upload]
                       [--server s3rver|rgw] [--node PATH]... [--exe PATH]
  --full          larger sizes: 1 GB single file, 100 MB vs 1 GB memory runs, 60 s idle window
  --rounds N      rounds per comparison, tools alternating (default 3)
  --only LIST     run only these sections (comma-separated)
  --jobs N        logjam-compress --jobs and pigz -p (default: number of CPUs)
  --upload-jobs N logjam-upload --jobs, rclone --transfers (second row), raw baseline concurrency (default 8)
  --no-build      do not run npm run build first
  --profile X     run logjam-X under node --cpu-prof into bench/out/profile/ and print the top self-time functions
  --server S      the upload section's server: s3rver (default) or rgw (scripts/rgw.sh; LOGJAM_RGW_DIR, default bench/out/rgw)
  --node PATH     upload rows for the npm install run by this Node too (repeatable; .ci/node-install 24.22.3 prints one's folder)
  --exe PATH      upload rows for this logjam-upload executable too (dist/logjam-*/logjam-upload, npm run package)`;

/** A bad command line: its message (possibly empty), then the usage, exit 2. */
export class UsageError extends Error {}

/**
 * @param {string[]} argv the arguments after `node bench/run.mjs`
 * @returns {Options | 'help'}
 */
export function parseOptions(argv) {
  /** @type {Options} */
  const opt = {
    full: false,
    rounds: 3,
    only: [...SECTIONS],
    jobs: os.availableParallelism(),
    uploadJobs: 8,
    build: true,
    profile: null,
    server: 's3rver',
    nodes: [],
    exe: null,
    argv,
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${argv[i - 1]} needs a value`);
      return v;
    };
    const arg = argv[i];
    if (arg === '--full') opt.full = true;
    else if (arg === '--rounds') opt.rounds = Number(value());
    else if (arg === '--only') {
      const only = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = only.filter((s) => !(/** @type {readonly string[]} */ (SECTIONS).includes(s)));
      if (bad.length) throw new UsageError(`unknown section ${bad.join(',')}; sections: ${SECTIONS.join(',')}`);
      opt.only = /** @type {Section[]} */ (only);
    } else if (arg === '--jobs') opt.jobs = Number(value());
    else if (arg === '--upload-jobs') opt.uploadJobs = Number(value());
    else if (arg === '--no-build') opt.build = false;
    else if (arg === '--profile') {
      const p = value();
      if (p !== 'compress' && p !== 'upload') throw new UsageError(`--profile takes compress or upload, not ${p}`);
      opt.profile = p;
    } else if (arg === '--server') {
      const v = value();
      if (v !== 's3rver' && v !== 'rgw') throw new UsageError(`--server takes s3rver or rgw, not ${v}`);
      opt.server = v;
    } else if (arg === '--node') opt.nodes.push(value());
    else if (arg === '--exe') opt.exe = value();
    else if (arg === '--help' || arg === '-h') return 'help';
    else throw new UsageError(`unknown argument ${arg}`);
  }
  if (!(opt.rounds >= 1 && opt.jobs >= 1 && opt.uploadJobs >= 1))
    throw new UsageError('--rounds, --jobs and --upload-jobs take a number of at least 1');
  return opt;
}

/**
 * The sizes of the corpus and of the windows measured.
 * @param {Options} opt
 */
export function sizesFor(opt) {
  return opt.full
    ? {
        hourlyMB: 40,
        bigMB: 1024,
        memMB: [100, 1024],
        small: 2000,
        mediumMB: 6.7,
        largeMB: 150,
        scale: 100_000,
        idleSec: 60,
      }
    : {
        hourlyMB: 40,
        bigMB: 256,
        memMB: [100, 256],
        small: 2000,
        mediumMB: 6.7,
        largeMB: 150,
        scale: 100_000,
        idleSec: 20,
      };
}
/** @typedef {ReturnType<typeof sizesFor>} Sizes */

/** @param {Options} opt */
export const commandLine = (opt) => `npm run bench${opt.argv.length ? ' -- ' + opt.argv.join(' ') : ''}`;
