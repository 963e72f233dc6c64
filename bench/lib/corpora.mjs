// The corpus folders each section measures on, generated once under
// bench/out/corpus/ and reused while their parameters stay the same.
import fs from 'node:fs';
import path from 'node:path';
import { writeLogFile, writeRandomGzip, smallGzip, setOldMtime, stamp, SUFFIX } from './corpus.mjs';
import { CORPUS } from './paths.mjs';
import { MB, listFiles, mkdir, rm } from './util.mjs';

/** Bump to regenerate every cached corpus. */
const CORPUS_VERSION = 1;

/** Midnight UTC of a day of July 2013. @param {number} d */
export const DAY = (d) => new Date(Date.UTC(2013, 6, d));

/**
 * The folder of corpus `name`, built by `build` unless a previous run built it with the same parameters.
 * @param {string} name @param {object} params @param {(dir: string) => void | Promise<void>} build
 * @returns {Promise<string>}
 */
export async function cached(name, params, build) {
  const dir = path.join(CORPUS, name);
  const manifest = path.join(dir, '.manifest.json');
  const want = JSON.stringify({ v: CORPUS_VERSION, ...params });
  if (fs.existsSync(manifest) && fs.readFileSync(manifest, 'utf8') === want) return dir;
  const t0 = performance.now();
  process.stderr.write(`  generating corpus ${name} ... `);
  rm(dir);
  mkdir(dir);
  await build(dir);
  fs.writeFileSync(manifest, want);
  process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return dir;
}

/** 24 closed hourly files of one day: 12 haproxy + 12 nginx, `mb` MB each. @param {number} mb */
export async function corpusHourly(mb) {
  const dir = await cached('hourly', { mb }, (dir) => {
    for (let h = 0; h < 12; h++)
      for (const [i, style] of ['haproxy', 'nginx'].entries()) {
        const start = new Date(DAY(4).getTime() + h * 3600_000);
        writeLogFile(path.join(dir, `${style}-${stamp(start)}-${SUFFIX}.log`), {
          size: mb * MB,
          style,
          seed: 100 + h * 2 + i,
          start,
        });
      }
  });
  return listFiles(dir);
}

/** One nginx log of `mb` MB, of the given day. @param {number} mb @param {number} day */
export async function corpusBigLog(mb, day) {
  const dir = await cached(`log-${mb}mb`, { mb, day }, (dir) => {
    writeLogFile(path.join(dir, `nginx-${stamp(DAY(day))}-${SUFFIX}.log`), {
      size: mb * MB,
      style: 'nginx',
      seed: 7000 + mb,
      start: DAY(day),
    });
  });
  return listFiles(dir);
}

/** @param {string} name @param {object} params @param {(dir: string) => Promise<void>} build */
async function corpusArchive(name, params, build) {
  const dir = await cached(name, params, (dir) => build(path.join(dir, 'archive')));
  return path.join(dir, 'archive');
}

/** An `archive/` of `n` small real archives (2–9 KB). @param {number} n */
export async function corpusUploadSmall(n) {
  return corpusArchive('up-small', { n }, async (dir) => {
    mkdir(dir);
    for (let i = 0; i < n; i++) {
      const start = new Date(Date.UTC(2013, 0, 1) + Math.floor(i / 2) * 3600_000);
      const file = path.join(dir, `${i % 2 ? 'nginx' : 'haproxy'}-${stamp(start)}-${SUFFIX}.log.gz`);
      fs.writeFileSync(file, smallGzip(i, 20 + (i % 100), start));
      setOldMtime(file, start);
    }
  });
}

/** An `archive/` of `count` incompressible archives of `mb` MB. @param {string} name @param {number} count @param {number} mb @param {number} day */
export async function corpusUploadRandom(name, count, mb, day) {
  return corpusArchive(name, { count, mb, day }, async (dir) => {
    mkdir(dir);
    for (let i = 0; i < count; i++) {
      const start = new Date(DAY(day).getTime() + i * 3600_000);
      const file = path.join(dir, `haproxy-${stamp(start)}-${SUFFIX}.log.gz`);
      await writeRandomGzip(file, Math.round(mb * MB), `${name}-${i}`);
      setOldMtime(file, start);
    }
  });
}
