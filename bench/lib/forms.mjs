// The forms logjam is installed in, each with the Node it runs on: the npm
// install on the bench's own Node, the npm install on the Node the executable
// is built with (.ci/node-versions' last line), and the executable itself.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, ROOT, WORK } from './paths.mjs';
import { mkdir } from './util.mjs';

/**
 * @typedef {object} Form
 * @property {string} name as the tables show it
 * @property {string} node the Node binary of this form (for the executable: the one it was built from), for `node -e`
 * @property {string} nodeVersion
 * @property {(binary: 'compress' | 'upload') => [string, string[]]} command the command and leading arguments that run a binary
 * @property {Record<string, string>} env what the command's environment needs (the npm form: its Node first on PATH)
 */

/** The Node line the executable is built with: the last version in .ci/node-versions. */
export const packagedNodeVersion = () =>
  fs
    .readFileSync(path.join(ROOT, '.ci/node-versions'), 'utf8')
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .pop() ?? '';

/** The `logjam` executable: BENCH_EXE, else what `npm run package` left in dist/ for this machine. */
export function executablePath() {
  if (process.env.BENCH_EXE) return process.env.BENCH_EXE;
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/logjam-upload/package.json'), 'utf8')).version;
  return path.join(ROOT, 'dist', `logjam-${version}-linux-${process.arch}`, 'logjam');
}

/**
 * The forms this machine can run, and a note for each one it cannot.
 * The packaged Node comes from .ci/node-install (the project's cache under .cache/node/, installed there on first use).
 * @returns {{ forms: Form[], notes: string[] }}
 */
export function detectForms() {
  /** @type {Form[]} */
  const forms = [];
  /** @type {string[]} */
  const notes = [];
  // The npm install's commands run as npm's links run them: the launcher as a program, whose first lines start
  // the node on PATH with V8's settings (scripts/node-flags.mjs), not `node launcher.cjs`, which would skip them.
  /** @param {string} name @param {string} node @returns {Form} */
  const npmForm = (name, node) => ({
    name,
    node,
    nodeVersion: name.replace(/.* /, ''),
    command: (binary) => [CLI[binary], []],
    env: { PATH: `${path.dirname(node)}:${process.env.PATH}` },
  });
  forms.push(npmForm(`npm install, Node ${process.versions.node}`, process.execPath));
  const packaged = packagedNodeVersion();
  const install = spawnSync(path.join(ROOT, '.ci/node-install'), [packaged], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const node24 = install.status === 0 ? path.join(install.stdout.trim(), 'node') : '';
  if (!node24)
    notes.push(`Node ${packaged} could not be installed (.ci/node-install ${packaged}): its rows are skipped.`);
  else if (packaged !== process.versions.node) forms.push(npmForm(`npm install, Node ${packaged}`, node24));
  const exe = executablePath();
  if (!fs.existsSync(exe))
    notes.push(
      `No executable at ${path.relative(ROOT, exe)} (\`npm run package -- --arch ${process.arch} --no-deb\`, or BENCH_EXE=path/to/logjam): its rows are skipped.`,
    );
  else if (node24) {
    // Run from a copy, as installed: postject leaves the file it wrote in the page cache in a state in which
    // every start maps 14 MB more of it (the same executable idled at 71 MB, and at 56 MB once copied or read
    // back from disk; RssFile, measured), which a host, whose copy dpkg or tar wrote, never sees.
    const installed = path.join(WORK, 'forms', 'logjam');
    mkdir(path.dirname(installed));
    fs.copyFileSync(exe, installed);
    forms.push({
      name: `the executable (Node ${packaged})`,
      node: node24,
      nodeVersion: packaged,
      command: (binary) => [installed, [binary]],
      env: {},
    });
  }
  return { forms, notes };
}
