#!/usr/bin/env node
// npm run quickstart: the whole pipeline on sample data, end to end.
// Stage 1 compresses sample hourly logs (logjam-compress --once); stage 2
// uploads the archives to a local S3-compatible server (logjam-upload --once
// against s3rver on 127.0.0.1) and lists the keys.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { uploadStage } from './quickstart-upload.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bins = {
  compress: path.join(root, 'packages/logjam-compress/bin/logjam-compress.cjs'),
  upload: path.join(root, 'packages/logjam-upload/bin/logjam-upload.cjs'),
};

const HOUR = 3_600_000;

/** The compact UTC stamp YYYYMMDDTHHMMZ of an instant. @param {number} time */
function stamp(time) {
  const d = new Date(time);
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}Z`;
}

/** A few realistic haproxy lines for the hour starting at `hourStart`. @param {number} hourStart @param {number} count */
function haproxyLines(hourStart, count) {
  const paths = ['/', '/api/v1/items', '/api/v1/items/42', '/login', '/static/app.js', '/healthz'];
  const statuses = [200, 200, 200, 200, 304, 301, 404, 500];
  let text = '';
  for (let i = 0; i < count; i += 1) {
    const at = new Date(hourStart + Math.floor((i * HOUR) / count));
    const syslogTime =
      at.toUTCString().slice(8, 11) +
      ' ' +
      String(at.getUTCDate()).padStart(2, ' ') +
      ' ' +
      at.toISOString().slice(11, 19);
    const client = `10.${i % 4}.${(i * 7) % 256}.${(i * 13) % 256}:${30000 + ((i * 31) % 30000)}`;
    const status = statuses[i % statuses.length];
    const bytes = 200 + ((i * 97) % 20000);
    const timers = `0/0/${i % 3}/${(i * 11) % 250}/${((i * 11) % 250) + 3}`;
    text += `${syslogTime} lb1 haproxy[2741]: ${client} [${at.toISOString()}] www~ app/web${(i % 4) + 1} ${timers} ${status} ${bytes} - - ---- 12/12/3/1/0 0/0 "GET ${paths[i % paths.length]} HTTP/1.1"\n`;
  }
  return text;
}

/** Creates a temporary log directory: three closed hours and the current, open one. */
export async function makeSampleLogs() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'logjam-quickstart-'));
  const thisHour = Math.floor(Date.now() / HOUR) * HOUR;
  const files = [];
  for (let h = 3; h >= 0; h -= 1) {
    const start = thisHour - h * HOUR;
    const name = `haproxy-${stamp(start)}-us-west-2-i-ae23fega.log`;
    const file = path.join(dir, name);
    await fs.writeFile(file, haproxyLines(start, 20_000));
    // Closed files were last written when their hour ended (past the default grace period).
    if (h > 0) await fs.utimes(file, (start + HOUR) / 1000, (start + HOUR) / 1000);
    files.push(name);
  }
  return { dir, files };
}

/** Stage 1: runs `logjam-compress --once` on the directory and reports what it did. @param {string} dir */
export async function compressStage(dir) {
  const before = new Map();
  for (const name of await fs.readdir(dir)) {
    const stats = await fs.lstat(path.join(dir, name));
    if (stats.isFile()) before.set(name, stats.size);
  }
  console.log(`\n$ logjam-compress --once ${dir}`);
  const run = spawnSync(process.execPath, [bins.compress, '--once', dir], { encoding: 'utf8' });
  // logjam-compress logs to stderr; show it as it is.
  if (run.stderr.trim()) process.stdout.write(`${run.stderr.trimEnd().replace(/^/gm, '  | ')}\n`);
  if (run.status !== 0) throw new Error(`logjam-compress exited ${run.status}`);

  const archiveDir = path.join(dir, 'archive');
  const archived = [];
  for (const name of (await fs.readdir(archiveDir)).sort()) {
    const source = name.replace(/\.gz$/, '');
    archived.push({
      name,
      bytesIn: before.get(source) ?? 0,
      bytesOut: (await fs.stat(path.join(archiveDir, name))).size,
    });
  }
  const kept = (await fs.readdir(dir)).filter((name) => name !== 'archive' && !name.startsWith('.')).sort();
  console.log(`\nArchived ${archived.length} closed file(s) into ${archiveDir}:`);
  for (const a of archived) {
    console.log(
      `  ${a.name}  ${kib(a.bytesIn)} -> ${kib(a.bytesOut)} (${((100 * a.bytesOut) / Math.max(1, a.bytesIn)).toFixed(1)}%)`,
    );
  }
  console.log(`Left in place (the current hour is still open):`);
  for (const name of kept) console.log(`  ${name}`);
  return { archiveDir, archived, kept };
}

/** @param {number} bytes */
function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main() {
  const { dir, files } = await makeSampleLogs();
  console.log(`Sample hourly haproxy logs in ${dir}:`);
  for (const name of files) console.log(`  ${name}`);
  const { archiveDir } = await compressStage(dir);
  console.log('');
  const { exitCode } = await uploadStage({ archiveDir });
  if (exitCode !== 0) throw new Error(`logjam-upload exited ${exitCode}`);
  console.log(`\nDone. Sample data left in ${dir} (remove it with: rm -r ${dir})`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`quickstart failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
