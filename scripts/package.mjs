// npm run package (after the build): self-contained executables and Debian packages, in dist/.
//
// - dist/logjam-<version>-linux-<arch>/logjam: one single executable
//   application (Node's SEA, on the Node that .ci/node-versions names last,
//   injected with postject) holding both commands, with links logjam-compress
//   and logjam-upload beside it (it runs the command it is called by; see
//   scripts/sea-main.mjs), and that folder as a .tar.gz. Everything is inside:
//   the program (the main script), the AWS SDK and @sentry/node (an asset
//   each, compiled on first use), the digest worker (its code inlined, started with
//   eval). x64 carries V8's code cache of the main script (built by the x64
//   Node; `logjam-compress --help` 0.75x the time without, bench/RESULTS.md)
//   and of each asset (<asset>.cache; codeCaches below); arm64 has none (only
//   the arm64 Node could build them).
// - dist/logjam_<version>_<debian arch>.deb: that executable in /usr/lib/logjam,
//   the commands in /usr/bin, service files, man pages (scripts/deb.mjs).
//
// Options: --arch x64,arm64 (default: both), --no-deb.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
/** @typedef {'x64' | 'arm64'} Arch */
import { buildDeb } from './deb.mjs';
import { helpOf as helpOfCommand } from './man.mjs';
import { builtinsWithoutFacades } from './esbuild-builtins.mjs';
import { NODE_FLAGS } from './node-flags.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const archArg = (args.includes('--arch') ? args[args.indexOf('--arch') + 1] : undefined) ?? 'x64,arm64';
const arches = /** @type {Arch[]} */ (archArg.split(','));
const version = JSON.parse(readFileSync(path.join(root, 'packages/logjam-upload/package.json'), 'utf8')).version;
const nodeVersion =
  readFileSync(path.join(root, '.ci/node-versions'), 'utf8')
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .pop() ?? '';
if (!nodeVersion) throw new Error('.ci/node-versions names no Node version');
const out = path.join(root, 'dist');
const work = path.join(out, 'sea');
// The fuse postject flips in the Node binary to say that a blob is injected (Node's documented value).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const STRIP_PREFIX = { x64: 'x86_64-linux-gnu-', arm64: 'aarch64-linux-gnu-' };
/** @param {string} cmd @param {string[]} argv @param {import('node:child_process').ExecFileSyncOptions} [options] @returns {string} */
const sh = (cmd, argv, options = {}) =>
  /** @type {string} */ (
    execFileSync(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options })
  );

/** Node's binary for `arch`, from the registry's node-linux-<arch> package (.ci/node-install). */
const nodeBinary = (/** @type {string} */ arch) =>
  path.join(sh(path.join(root, '.ci/node-install'), [nodeVersion, arch]).trim(), 'node');

// The cli modules read their version from ../package.json (core's readVersion); there is no such file in the executable.
/** @type {import('esbuild').Plugin} */
const versionInline = {
  name: 'version-inline',
  setup(b) {
    b.onLoad({ filter: /packages[\\/]logjam-(compress|upload)[\\/]dist[\\/]cli\.js$/ }, ({ path: file }) => {
      const read = `readVersion(import.meta.url)`;
      const text = readFileSync(file, 'utf8');
      if (!text.includes(read))
        throw new Error(`${file}: the version is no longer read as \`${read}\`; update scripts/package.mjs`);
      return {
        contents: text.replace(
          read,
          JSON.stringify(JSON.parse(readFileSync(path.join(file, '../../package.json'), 'utf8')).version),
        ),
        loader: 'js',
      };
    });
  },
};

// The packages the program only import()s (the AWS SDK, @sentry/node): not in the
// executable's main script, which V8 would scan whole at every start, but in
// assets of it, each compiled and run the first time one of its packages is
// imported. One asset per group, so that a pass that talks to S3 does not also
// run @sentry/node's 1.5 MB of module code (its upload service idled 12 MB
// higher when both were one asset; docs/performance.md).
const LAZY_ASSETS = { 'sdk.cjs': /^@(aws-sdk|smithy)\//, 'sentry.cjs': /^@sentry\/node$/ };
const LAZY = new RegExp(
  Object.values(LAZY_ASSETS)
    .map((re) => re.source)
    .join('|'),
);
const LAZY_LOADER = 'logjam:lazy-asset';
// The call that runs an asset, in the loader and where its code cache is made (codeCaches): the same code both times.
const RUN_ASSET = `(module, module.exports, require, process.execPath, require('node:path').dirname(process.execPath))`;
/** The asset a lazily imported package is in. @param {string} spec */
const assetOf = (spec) =>
  /** @type {string} */ (
    Object.keys(LAZY_ASSETS).find((asset) => LAZY_ASSETS[/** @type {keyof typeof LAZY_ASSETS} */ (asset)].test(spec))
  );

/**
 * Points the program's import()s of LAZY packages at their asset (collected in `found`).
 * @param {Set<string>} found @returns {import('esbuild').Plugin}
 */
function lazyAsset(found) {
  return {
    name: 'lazy-asset',
    setup(b) {
      b.onResolve({ filter: LAZY }, ({ path: spec, kind }) => {
        if (kind !== 'dynamic-import')
          return { errors: [{ text: `${spec} is imported at start; only import() may load it` }] };
        found.add(spec);
        return { path: spec, namespace: 'lazy-asset' };
      });
      b.onResolve({ filter: new RegExp(`^${LAZY_LOADER}$`) }, () => ({
        path: LAZY_LOADER,
        namespace: 'lazy-asset-loader',
      }));
      b.onLoad({ filter: /.*/, namespace: 'lazy-asset' }, ({ path: spec }) => ({
        contents: `module.exports = require(${JSON.stringify(LAZY_LOADER)})(${JSON.stringify(assetOf(spec))})[${JSON.stringify(spec)}];`,
        loader: 'js',
        resolveDir: root,
      }));
      // An asset is a function(module, exports, require, __filename, __dirname), as Node wraps a CommonJS module.
      b.onLoad({ filter: /.*/, namespace: 'lazy-asset-loader' }, () => ({
        loader: 'js',
        contents: `const loaded = {};
module.exports = (asset) => {
  if (!loaded[asset]) {
    const module = { exports: {} };
    const sea = require('node:sea');
    const code = sea.getAsset(asset, 'utf8');
    let cachedData;
    try {
      cachedData = Buffer.from(sea.getAsset(asset + '.cache'));
    } catch {} // none (arm64): compiled from source
    const vm = require('node:vm');
    // An import() left in it (none of a built-in: esbuild-builtins.mjs) goes to Node's own loader.
    const script = new vm.Script(code, { filename: 'logjam-' + asset, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
    if (script.cachedDataRejected) process.emitWarning('V8 rejected the code cache of ' + asset + ': compiled from source at every use');
    script.runInThisContext()${RUN_ASSET};
    loaded[asset] = module.exports.modules;
  }
  return loaded[asset];
};`,
      }));
    },
  };
}

async function bundle() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  /** @type {import('esbuild').BuildOptions} */
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: `node${nodeVersion.split('.')[0]}`,
    format: 'cjs',
    logLevel: 'warning',
    legalComments: 'none',
    mainFields: ['module', 'main'],
    plugins: [builtinsWithoutFacades()],
  };
  // import.meta has no meaning in a CommonJS script; the code that reads it is not reached here.
  const noImportMeta = { 'import.meta.url': 'undefined' };
  const worker = await build({
    ...common,
    entryPoints: ['packages/logjam-upload/dist/digest-worker.js'],
    write: false,
    define: noImportMeta,
  });
  const main = path.join(work, 'logjam.cjs');
  /** @type {Set<string>} */
  const lazy = new Set();
  await build({
    ...common,
    entryPoints: ['scripts/sea-main.mjs'],
    outfile: main,
    plugins: [versionInline, lazyAsset(lazy), builtinsWithoutFacades()],
    define: { LOGJAM_DIGEST_WORKER_CODE: JSON.stringify(worker.outputFiles?.[0]?.text ?? ''), ...noImportMeta },
  });
  /** @type {Record<string, string>} */
  const assets = {};
  for (const asset of Object.keys(LAZY_ASSETS)) {
    const specs = [...lazy].filter((spec) => assetOf(spec) === asset).sort();
    if (!specs.length) continue;
    const lazyBuild = await build({
      ...common,
      stdin: {
        contents: `${specs.map((spec, i) => `import * as m${i} from ${JSON.stringify(spec)};`).join('\n')}\nexport const modules = { ${specs.map((spec, i) => `${JSON.stringify(spec)}: m${i}`).join(', ')} };\n`,
        resolveDir: root,
        loader: 'js',
      },
      write: false,
      define: noImportMeta,
    });
    assets[asset] = path.join(work, asset);
    writeFileSync(
      assets[asset],
      `(function (module, exports, require, __filename, __dirname) {\n${lazyBuild.outputFiles?.[0]?.text ?? ''}\n})`,
    );
  }
  return { main, assets };
}

// Writes V8's code cache of an asset (argv: asset file, its filename in the loader, the cache file):
// compiled and run as the lazy-asset loader does, so that the cache also holds what its start compiles.
const CODE_CACHE_WRITER = `const [file, filename, out] = process.argv.slice(1);
const fs = require('node:fs');
const vm = require('node:vm');
const script = new vm.Script(fs.readFileSync(file, 'utf8'), { filename });
const module = { exports: {} };
script.runInThisContext()${RUN_ASSET};
fs.writeFileSync(out, script.createCachedData());`;

/**
 * Each asset's code cache, as an asset of its own (<asset>.cache), made by `node` with the executable's V8 settings:
 * the SDK's asset compiled 31-46 ms from source, 5 ms from its cache (Node 24).
 * @param {string} node @param {Record<string, string>} assets @returns {Record<string, string>}
 */
function codeCaches(node, assets) {
  return Object.fromEntries(
    Object.entries(assets).map(([asset, file]) => {
      sh(node, [...NODE_FLAGS, '-e', CODE_CACHE_WRITER, file, `logjam-${asset}`, `${file}.cache`]);
      return [`${asset}.cache`, `${file}.cache`];
    }),
  );
}

/** @param {{ main: string, assets: Record<string, string> }} bundled @param {Arch} arch */
function executable({ main, assets }, arch) {
  const node = nodeBinary(arch);
  const native = arch === process.arch;
  const blob = path.join(work, `logjam-${arch}.blob`);
  const config = path.join(work, `sea-${arch}.json`);
  // The code caches are V8's for the Node that writes them: only when that Node is this host's.
  writeFileSync(
    config,
    JSON.stringify({
      main,
      assets: native ? { ...assets, ...codeCaches(node, assets) } : assets,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: native,
      execArgv: NODE_FLAGS,
    }),
  );
  // With the V8 settings the executable runs with: V8 rejects a code cache made under other flags (a warning at every start).
  sh(native ? node : nodeBinary(process.arch), [...NODE_FLAGS, '--experimental-sea-config', config]);
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
  sh(path.join(root, 'node_modules/.bin/postject'), [exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], {
    stdio: 'ignore',
  });
  for (const name of ['logjam-compress', 'logjam-upload']) symlinkSync('logjam', path.join(dir, name));
  sh('tar', ['-czf', `${dir}.tar.gz`, '-C', out, path.basename(dir)]);
  return exe;
}

/** A command's --help, from the npm build (the same program; the arm64 executable cannot run here). */
const helpOf = (/** @type {string} */ name) => helpOfCommand(root, name);

const program = await bundle();
for (const arch of arches) {
  const exe = executable(program, arch);
  process.stderr.write(`package: ${path.relative(root, exe)}\n`);
  if (!args.includes('--no-deb'))
    process.stderr.write(`package: ${path.relative(root, buildDeb({ root, out, version, arch, exe, helpOf }))}\n`);
}
