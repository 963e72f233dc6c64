// Where the bench reads and writes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(HERE, '..');
export const OUT = path.join(HERE, 'out');
export const CORPUS = path.join(OUT, 'corpus');
export const WORK = path.join(OUT, 'work');
export const LOGS = path.join(OUT, 'logs');
export const RESULTS = path.join(HERE, 'RESULTS.md');
/** The bundles that npm install -g ships, not tsc's intermediate output. */
export const CLI = {
  compress: path.join(ROOT, 'packages/logjam-compress/bin/logjam-compress.cjs'),
  upload: path.join(ROOT, 'packages/logjam-upload/bin/logjam-upload.cjs'),
};
