// npm run package (after the build): self-contained executables and Debian packages, in dist/.
//
// - dist/logjam-<version>-linux-<arch>/logjam: one single executable
//   application (Node's SEA, on the Node that .ci/node-versions names last,
//   injected with postject) holding both commands, with links logjam-compress
//   and logjam-upload beside it (it runs the command it is called by; see
//   scripts/sea-main.mjs), and that folder as a .tar.gz. Everything is inside:
//   the AWS SDK, @sentry/node, the digest worker (its code inlined, started
//   with eval). x64 carries V8's code cache of the program (built by the x64
//   Node); arm64 has none (it would have to be built by the arm64 Node).
// - dist/logjam_<version>_<debian arch>.deb: that executable in /usr/lib/logjam,
//   the commands in /usr/bin, service files, man pages (scripts/deb.mjs).
//
// Options: --arch x64,arm64 (default: both), --no-deb.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildDeb } from './deb.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const archArg = args.includes('--arch') ? args[args.indexOf('--arch') + 1] : 'x64,arm64';
const arches = archArg.split(',');
const version = JSON.parse(readFileSync(path.join(root, 'packages/logjam-upload/package.json'), 'utf8')).version;
const nodeVersion = readFileSync(path.join(root, '.ci/node-versions'), 'utf8').split('\n').filter((l) => /^\d/.test(l)).pop();
const out = path.join(root, 'dist');
const work = path.join(out, 'sea');
// The fuse postject flips in the Node binary to say that a blob is injected (Node's documented value).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const STRIP_PREFIX = { x64: 'x86_64-linux-gnu-', arm64: 'aarch64-linux-gnu-' };
const sh = (cmd, argv, options = {}) => execFileSync(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });

/** Node's binary for `arch`, from the registry's node-linux-<arch> package (.ci/node-install). */
const nodeBinary = (arch) => path.join(sh(path.join(root, '.ci/node-install'), [nodeVersion, arch]).trim(), 'node');

// The cli modules read their version from ../package.json (core's readVersion); there is no such file in the executable.
const versionInline = {
  name: 'version-inline',
  setup(b) {
    b.onLoad({ filter: /packages[\\/]logjam-(compress|upload)[\\/]dist[\\/]cli\.js$/ }, ({ path: file }) => {
      const read = `readVersion(import.meta.url)`;
      const text = readFileSync(file, 'utf8');
      if (!text.includes(read)) throw new Error(`${file}: the version is no longer read as \`${read}\`; update scripts/package.mjs`);
      return { contents: text.replace(read, JSON.stringify(JSON.parse(readFileSync(path.join(file, '../../package.json'), 'utf8')).version)), loader: 'js' };
    });
  },
};

async function bundle() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const common = { absWorkingDir: root, bundle: true, platform: 'node', target: `node${nodeVersion.split('.')[0]}`, format: 'cjs', logLevel: 'warning', legalComments: 'none', mainFields: ['module', 'main'] };
  const worker = await build({ ...common, entryPoints: ['packages/logjam-upload/dist/digest-worker.js'], write: false, define: { 'import.meta.url': 'undefined' } });
  const main = path.join(work, 'logjam.cjs');
  await build({
    ...common,
    entryPoints: ['scripts/sea-main.mjs'],
    outfile: main,
    plugins: [versionInline],
    // import.meta has no meaning in a CommonJS script; the code that reads it is not reached here.
    define: { LOGJAM_DIGEST_WORKER_CODE: JSON.stringify(worker.outputFiles[0].text), 'import.meta.url': 'undefined' },
  });
  return main;
}

function executable(main, arch) {
  const node = nodeBinary(arch);
  const native = arch === process.arch;
  const blob = path.join(work, `logjam-${arch}.blob`);
  const config = path.join(work, `sea-${arch}.json`);
  // The code cache is V8's for the Node that writes the blob: only when that Node is this host's.
  writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: native }));
  sh(native ? node : nodeBinary(process.arch), ['--experimental-sea-config', config]);
  const dir = path.join(out, `logjam-${version}-linux-${arch}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const exe = path.join(dir, 'logjam');
  copyFileSync(node, exe);
  chmodSync(exe, 0o755);
  // Node's binaries carry their debug symbols (about 18 MB): not needed to run. Stripped before
  // injection (stripping after would drop the blob), by the arch's strip (binutils-aarch64-linux-gnu for arm64).
  const strip = native ? 'strip' : `${STRIP_PREFIX[arch]}strip`;
  try {
    sh(strip, [exe]);
  } catch {
    process.stderr.write(`package: ${strip} failed or is missing; linux-${arch} left unstripped\n`);
  }
  sh(path.join(root, 'node_modules/.bin/postject'), [exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'ignore' });
  for (const name of ['logjam-compress', 'logjam-upload']) symlinkSync('logjam', path.join(dir, name));
  sh('tar', ['-czf', `${dir}.tar.gz`, '-C', out, path.basename(dir)]);
  return exe;
}

/** A command's --help, from the npm build (the same program; the arm64 executable cannot run here). */
const helpOf = (name) => sh(process.execPath, [path.join(root, 'packages', name, 'bin', `${name}.cjs`), '--help']);

const main = await bundle();
for (const arch of arches) {
  const exe = executable(main, arch);
  process.stderr.write(`package: ${path.relative(root, exe)}\n`);
  if (!args.includes('--no-deb')) process.stderr.write(`package: ${path.relative(root, buildDeb({ root, out, version, arch, exe, helpOf }))}\n`);
}
