// After `tsc -b`: bundles each binary's entry (dist/cli.js) into one file,
// packages/<binary>/bin/<binary>.js, with @logjam/core inlined, so that the
// packed tarball carries the shared code (npm does not pack a workspace's
// symlinked sibling). Every real npm dependency of the binary's package.json
// stays external: npm installs those. The bundle lives one folder below the
// package root, as dist/cli.js does, so `../package.json` still finds the
// package's own manifest (for --version).
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BINARIES = ['logjam-compress', 'logjam-upload'];
const readJson = async (file) => JSON.parse(await readFile(file, 'utf8'));

for (const name of BINARIES) {
  const dir = path.join(root, 'packages', name);
  const pkg = await readJson(path.join(dir, 'package.json'));
  const external = Object.keys(pkg.dependencies ?? {});
  if (external.includes('@logjam/core')) throw new Error(`${name}: @logjam/core is bundled; keep it in devDependencies`);
  const outfile = path.join(dir, 'bin', `${name}.js`);
  const result = await build({
    metafile: true,
    entryPoints: [path.join(dir, 'dist/cli.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    // A dependency's subpath (@aws-sdk/client-s3/...) is external too.
    external: external.flatMap((dep) => [dep, `${dep}/*`]),
    logLevel: 'warning',
    legalComments: 'none',
  });
  // Only our own code may be inlined: a package core imports that the binary
  // does not declare would be bundled whole (@sentry/node's lazy import too).
  const inlined = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules/'));
  if (inlined.length) throw new Error(`${name}: add to its package.json dependencies what core imports: ${inlined.slice(0, 5).join(', ')}`);
  await chmod(outfile, 0o755);
}
