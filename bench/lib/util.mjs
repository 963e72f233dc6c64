// Small helpers every section uses: files, statistics, number formatting.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { OUT } from './paths.mjs';

export const MB = 1024 * 1024;

/** @param {string} p */
export const rm = (p) => fs.rmSync(p, { recursive: true, force: true });
/** @param {string} p */
export const mkdir = (p) => fs.mkdirSync(p, { recursive: true });

/** @param {number[]} xs */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  const mid = (/** @type {number} */ i) => s[i] ?? NaN;
  return n % 2 ? mid((n - 1) / 2) : (mid(n / 2 - 1) + mid(n / 2)) / 2;
}
/** A number with `d` decimals, or a dash when there is none. */
export const f = (/** @type {number} */ x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
/** " (min–max)" of several measurements. */
export const spread = (/** @type {number[]} */ xs, d = 1) =>
  xs.length > 1 ? ` (${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)})` : '';
/**
 * The list started at its k-th element: round k's order of the tools.
 * @template T
 * @param {T[]} xs
 * @param {number} k
 * @returns {T[]}
 */
export const rotate = (xs, k) => xs.map((_, i) => /** @type {T} */ (xs[(i + k) % xs.length]));
/** Bytes of the regular files in `dir` whose names pass `pred`. */
export const dirBytes = (/** @type {string} */ dir, pred = (/** @type {string} */ _name) => true) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && pred(d.name))
    .reduce((s, d) => s + fs.statSync(path.join(dir, d.name)).size, 0);
/** @param {string} file @returns {Promise<string>} */
export const sha256File = (file) =>
  new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file)
      .on('error', reject)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')));
  });
export const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
export const syncDisks = () => void spawnSync('sync');

/**
 * ext4 without a journal (this machine's) will not reuse an inode deleted
 * less than 60 s ago, 360 s while its inode table block is dirty, which any
 * file created makes it (recently_deleted() in fs/ext4/ialloc.c): until then,
 * creating a file costs 20-40x, and logjam-upload creates one per archive.
 * A section that deletes many files says so (deletedMany); one that creates
 * them waits out what is left of that window first (afterDeletions).
 */
const DELETED_AT = path.join(OUT, 'deleted-many-at');
const RECENTLY_DELETED_MS = 360_000;
export function deletedMany() {
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(DELETED_AT, `${Date.now()}\n`);
}
/** @param {(line: string) => void} say */
export async function afterDeletions(say) {
  let at = 0;
  try {
    at = Number(fs.readFileSync(DELETED_AT, 'utf8'));
  } catch {
    return;
  }
  const wait = at + RECENTLY_DELETED_MS - Date.now();
  if (!(wait > 0)) return;
  say(`  waiting ${Math.ceil(wait / 1000)} s: files were deleted less than 6 minutes ago (ext4 without a journal)\n`);
  await new Promise((resolve) => setTimeout(resolve, wait));
}

/** @typedef {{ name: string, path: string, size: number }} CorpusFile */

/** The files of a corpus folder, by name. @param {string} dir @returns {CorpusFile[]} */
export const listFiles = (dir) =>
  fs
    .readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((name) => ({ name, path: path.join(dir, name), size: fs.statSync(path.join(dir, name)).size }));

/** Copy files into dir with their old mtimes (the copy time is not measured). @param {CorpusFile[]} files @param {string} dir */
export function copyFresh(files, dir) {
  rm(dir);
  mkdir(dir);
  for (const fl of files) {
    const dst = path.join(dir, fl.name);
    fs.copyFileSync(fl.path, dst);
    const st = fs.statSync(fl.path);
    fs.utimesSync(dst, st.atime, st.mtime);
  }
  syncDisks();
}
/** Hard-link a corpus folder (the uploaders only read, logjam adds markers beside). @param {string} srcDir @param {string} dir */
export function linkFresh(srcDir, dir) {
  rm(dir);
  mkdir(dir);
  for (const name of fs.readdirSync(srcDir)) {
    if (name.startsWith('.')) continue;
    fs.linkSync(path.join(srcDir, name), path.join(dir, name));
  }
}
