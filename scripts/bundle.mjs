// After `tsc -b`: bundles each binary into its package's bin/ folder, with
// @logjam/core inlined, so that the packed tarball carries the shared code
// (npm does not pack a workspace's symlinked sibling):
//
// - bin/<binary>.mjs, the program (dist/cli.js and what it imports), one ES
//   module, clipanion and typanion inlined: loaded through Node's ESM loader
//   as CommonJS packages, they cost about 45 ms of wall time and 65 ms of CPU
//   at every start (`logjam-upload --help` 187 -> 139 ms, measured). The
//   binary's npm dependency (@sentry/node, loaded only when SENTRY_DSN is set)
//   stays external: npm installs it.
// - bin/sdk-<hash>.mjs (logjam-upload only): the AWS SDK, bundled in
//   (@aws-sdk/* and @smithy/* are devDependencies: the tarball installs none
//   of their hundreds of files) by a build of its own: one entry per package
//   that sdk.ts import()s, and chunks of what they share, loaded once a pass
//   talks to S3. Loading a few large files instead of hundreds of small ones
//   through Node's ESM loader is the point: about 100 ms of CPU off every run
//   that loads it. A separate build, so that the program shares no chunk with
//   it (esbuild's helpers would be one) and loads none at start.
// - bin/<name>-worker.mjs: a worker thread's code (dist/<name>-worker.js), self-contained.
// - bin/<binary>.cjs, the package's `bin`: a small CommonJS launcher
//   (dist/launcher.js, with core's threadpool.ts inlined, which says why it is
//   CommonJS) that sizes libuv's threadpool from --jobs, then import()s the
//   program; a shell script too, whose first two lines start node with V8's
//   settings (node-flags.mjs).
//
// Every ES-module bundle takes Node's built-ins with process.getBuiltinModule,
// not an ES import (esbuild-builtins.mjs says why).
//
// All live one folder below the package root, as dist/cli.js does, so
// `../package.json` still finds the package's own manifest (for --version).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { builtinsWithoutFacades } from './esbuild-builtins.mjs';
import { NODE_FLAGS } from './node-flags.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BINARIES = ['logjam-compress', 'logjam-upload'];
const readJson = async (/** @type {string} */ file) => JSON.parse(await readFile(file, 'utf8'));

// Packages bundled into a binary rather than installed by npm: its
// devDependencies among these (the AWS SDK, the command-line parser), and what they depend on.
const BUNDLED = /^(@(aws-sdk|smithy)\/|clipanion$|typanion$)/;

// The bundled packages the program may only import() (load when first used): the AWS SDK.
const LAZY = /^@(aws-sdk|smithy)\//;
/** The bundle file of a lazily loaded package: bin/sdk-<8 hex digits of its name's hash>.mjs. */
const lazyName = (/** @type {string} */ spec) =>
  `sdk-${createHash('sha256').update(spec).digest('hex').slice(0, 8).toUpperCase()}`;

/**
 * Points the program's import()s of LAZY packages at their bundle files (collected in `found`), and fails a static import of one.
 * @param {Set<string>} found
 * @returns {import('esbuild').Plugin}
 */
function lazyPackages(found) {
  return {
    name: 'lazy-packages',
    setup(build) {
      build.onResolve({ filter: LAZY }, ({ path: spec, kind, importer }) => {
        if (kind !== 'dynamic-import')
          return {
            errors: [
              { text: `${path.relative(root, importer)} imports ${spec} at start; only import() may load it (sdk.ts)` },
            ],
          };
        found.add(spec);
        return { path: `./${lazyName(spec)}.mjs`, external: true };
      });
    },
  };
}

/**
 * The npm packages `roots` need, transitively, as installed under node_modules (hoisted or nested).
 * @param {string[]} roots @param {string} from the folder whose node_modules are searched first
 */
async function dependencyClosure(roots, from) {
  /** @type {Set<string>} */
  const seen = new Set();
  /** @type {[string, string][]} */
  const queue = roots.map((dep) => [dep, from]);
  for (let item = queue.shift(); item; item = queue.shift()) {
    const [dep, dir] = item;
    let at = dir;
    while (!existsSync(path.join(at, 'node_modules', dep, 'package.json')) && at !== root) at = path.dirname(at);
    // Not installed (an optional dependency for another platform): it cannot be inlined either.
    if (!existsSync(path.join(at, 'node_modules', dep, 'package.json'))) continue;
    const pkgDir = path.join(at, 'node_modules', dep);
    if (seen.has(pkgDir)) continue;
    seen.add(pkgDir);
    const manifest = await readJson(path.join(pkgDir, 'package.json'));
    for (const next of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
      queue.push([next, pkgDir]);
  }
  return new Set([...seen].map((dir) => path.relative(root, dir) + '/'));
}

// Only our own code, and the packages a binary bundles on purpose, may be
// inlined: a package core imports that the binary does not declare would be
// bundled whole (@sentry/node's lazy import too).
/** @param {string} name @param {import('esbuild').BuildResult<{ metafile: true }>} result @param {Set<string>} allowed */
function checkInlined(name, result, allowed = new Set()) {
  const inlined = Object.keys(result.metafile.inputs).filter(
    (input) => input.includes('node_modules/') && ![...allowed].some((dir) => input.startsWith(dir)),
  );
  if (inlined.length)
    throw new Error(
      `${name}: add to its package.json dependencies what core imports: ${inlined.slice(0, 5).join(', ')}`,
    );
}

for (const name of BINARIES) {
  const dir = path.join(root, 'packages', name);
  const pkg = await readJson(path.join(dir, 'package.json'));
  const external = Object.keys(pkg.dependencies ?? {});
  if (external.includes('@logjam/core'))
    throw new Error(`${name}: @logjam/core is bundled; keep it in devDependencies`);
  const bin = path.join(dir, 'bin');
  // Nothing stale may be packed (files lists bin/ entries by name, but a clean folder is simplest to reason about).
  await rm(bin, { recursive: true, force: true });
  // npm installs the binary's dependencies: every build leaves them, and their subpaths (@sentry/node/...), external.
  /** @satisfies {import('esbuild').BuildOptions} */
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: /** @type {const} */ ('node'),
    target: 'node20.19',
    logLevel: /** @type {const} */ ('warning'),
    legalComments: /** @type {const} */ ('none'),
    metafile: /** @type {const} */ (true),
    external: external.flatMap((dep) => [dep, `${dep}/*`]),
  };

  const bundled = Object.keys(pkg.devDependencies ?? {}).filter((dep) => BUNDLED.test(dep));
  const stray = external.filter((dep) => BUNDLED.test(dep));
  if (stray.length) throw new Error(`${name}: ${stray.join(', ')} are bundled; keep them in devDependencies`);
  // The program, one file: the packages it import()s lazily (the SDK) are left to the build below.
  /** @type {Set<string>} */
  const lazy = new Set();
  const program = await build({
    ...common,
    entryPoints: [path.join(dir, 'dist/cli.js')],
    outfile: path.join(bin, `${name}.mjs`),
    format: 'esm',
    plugins: [lazyPackages(lazy), builtinsWithoutFacades()],
    // clipanion's CommonJS build require()s Node built-ins (tty), which an ES module can only do through createRequire.
    banner: {
      js: `const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);`,
    },
  });
  checkInlined(name, program, await dependencyClosure(bundled, dir));
  // The lazily loaded packages: one build of their own, an entry (bin/sdk-<hash of the
  // name>.mjs) per package the program import()s, and chunks for the code they share.
  // Apart from the program's build, so that no chunk is shared with it: the program
  // loads no chunk at start.
  if (lazy.size) {
    const sdkBuild = await build({
      ...common,
      entryPoints: Object.fromEntries([...lazy].map((spec) => [lazyName(spec), spec])),
      outdir: bin,
      outExtension: { '.js': '.mjs' },
      format: 'esm',
      splitting: true,
      chunkNames: 'sdk-[hash]',
      // The SDK's ES-module builds: no CommonJS require() shims in an ES-module bundle.
      mainFields: ['module', 'main'],
      plugins: [builtinsWithoutFacades()],
    });
    checkInlined(`${name} (lazily loaded packages)`, sdkBuild, await dependencyClosure(bundled, dir));
  }

  // Worker threads (dist/*-worker.js) get a bundle of their own beside the program,
  // where the program's `new URL('./<name>-worker.mjs', import.meta.url)` finds them.
  for (const file of (await readdir(path.join(dir, 'dist'))).filter((f) => f.endsWith('-worker.js'))) {
    const worker = await build({
      ...common,
      entryPoints: [path.join(dir, 'dist', file)],
      outfile: path.join(bin, file.replace(/\.js$/, '.mjs')),
      format: 'esm',
      plugins: [builtinsWithoutFacades()],
    });
    checkInlined(`${name} ${file}`, worker);
  }

  const launcherFile = path.join(bin, `${name}.cjs`);
  const launcher = await build({
    ...common,
    entryPoints: [path.join(dir, 'dist/launcher.js')],
    outfile: launcherFile,
    format: 'cjs',
    // Nothing external: the launcher is self-contained (node: built-ins aside).
    external: [],
    // Run by sh, which starts node on it with V8's settings (node-flags.mjs); to JavaScript the
    // second line is a comment. (`#!/usr/bin/env -S node ...` would need coreutils' env; busybox's has no -S.)
    banner: { js: `#!/bin/sh\n//bin/true; exec node ${NODE_FLAGS.join(' ')} "$0" "$@"` },
  });
  checkInlined(`${name} launcher`, launcher);
  await chmod(launcherFile, 0o755);
}
