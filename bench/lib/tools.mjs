// The peers the bench compares logjam with, found on PATH (nothing is installed).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, ROOT } from './paths.mjs';

/** @typedef {{ cmd: string, version: string } | null} Tool */
/**
 * @typedef {object} Tools
 * @property {Tool} gzip
 * @property {Tool} pigz
 * @property {Tool} rclone
 * @property {Tool} aws
 * @property {Tool} hyperfine
 * @property {Tool} time
 * @property {Tool} python3
 * @property {boolean} logjamCompress
 * @property {boolean} logjamUpload
 */

/** @param {string} cmd @param {string[]} args */
function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return null;
  return ((r.stdout || '') + (r.stderr || '')).trim().split('\n')[0] ?? null;
}

/** Each peer's command and version, or null (with a note on stderr saying how to install it). @returns {Tools} */
export function detectTools() {
  const awsCmd = process.env.BENCH_AWS || 'aws';
  /** @type {Record<string, [string, string[], string]>} */
  const probe = {
    gzip: ['gzip', ['--version'], 'gzip'],
    pigz: ['pigz', ['--version'], 'pigz'],
    rclone: ['rclone', ['version'], 'rclone'],
    aws: [awsCmd, ['--version'], 'awscli'],
    hyperfine: ['hyperfine', ['--version'], 'hyperfine'],
    time: ['/usr/bin/time', ['--version'], 'time'],
    python3: ['python3', ['--version'], 'python3'],
  };
  /** @type {Record<string, Tool>} */
  const found = {};
  for (const [k, [cmd, args, pkg]] of Object.entries(probe)) {
    const v = firstLine(cmd, args);
    found[k] = v ? { cmd, version: v } : null;
    if (!v)
      console.error(
        `note: ${k} not found or not working (${cmd} ${args.join(' ')}); its rows are skipped. Debian: apt-get install ${pkg}`,
      );
  }
  const logjamCompress = fs.existsSync(CLI.compress);
  const logjamUpload = fs.existsSync(CLI.upload);
  if (!logjamCompress)
    console.error(
      `note: ${path.relative(ROOT, CLI.compress)} not built (npm run build); logjam-compress rows are skipped`,
    );
  if (!logjamUpload)
    console.error(`note: ${path.relative(ROOT, CLI.upload)} not built (npm run build); logjam-upload rows are skipped`);
  return /** @type {Tools} */ ({ ...found, logjamCompress, logjamUpload });
}
