// After `tsc -b`: bundles each binary into its package's bin/ folder, with
// @logjam/core inlined, so that the packed tarball carries the shared code
// (npm does not pack a workspace's symlinked sibling):
//
// - bin/<binary>.mjs, the program (dist/cli.js and what it imports), an ES
//   module. Every real npm dependency of the binary's package.json stays
//   external: npm installs those.
// - bin/<binary>.cjs, the package's `bin`: a small CommonJS launcher
//   (dist/launcher.js) that sizes libuv's threadpool from --jobs, then
//   import()s the program. It must be CommonJS: an ES-module entry starts the
//   pool (the ESM loader reads files through it) before it could set its size.
//
// Both live one folder below the package root, as dist/cli.js does, so
// `../package.json` still finds the package's own manifest (for --version).
import { chmod, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BINARIES = ['logjam-compress', 'logjam-upload'];
const readJson = async (file) => JSON.parse(await readFile(file, 'utf8'));

// Only our own code may be inlined: a package core imports that the binary
// does not declare would be bundled whole (@sentry/node's lazy import too).
function checkInlined(name, result) {
  const inlined = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules/'));
  if (inlined.length) throw new Error(`${name}: add to its package.json dependencies what core imports: ${inlined.slice(0, 5).join(', ')}`);
}

for (const name of BINARIES) {
  const dir = path.join(root, 'packages', name);
  const pkg = await readJson(path.join(dir, 'package.json'));
  const external = Object.keys(pkg.dependencies ?? {});
  if (external.includes('@logjam/core')) throw new Error(`${name}: @logjam/core is bundled; keep it in devDependencies`);
  const bin = path.join(dir, 'bin');
  // Nothing stale may be packed (files lists bin/ entries by name, but a clean folder is simplest to reason about).
  await rm(bin, { recursive: true, force: true });
  const common = { bundle: true, platform: 'node', target: 'node20.19', logLevel: 'warning', legalComments: 'none', metafile: true };

  const program = await build({
    ...common,
    entryPoints: [path.join(dir, 'dist/cli.js')],
    outfile: path.join(bin, `${name}.mjs`),
    format: 'esm',
    // A dependency's subpath (@aws-sdk/client-s3/...) is external too.
    external: external.flatMap((dep) => [dep, `${dep}/*`]),
  });
  checkInlined(name, program);

  const launcherFile = path.join(bin, `${name}.cjs`);
  const launcher = await build({
    ...common,
    entryPoints: [path.join(dir, 'dist/launcher.js')],
    outfile: launcherFile,
    format: 'cjs',
    // Nothing external: the launcher is self-contained (node: built-ins aside).
  });
  checkInlined(`${name} launcher`, launcher);
  await chmod(launcherFile, 0o755);
}
