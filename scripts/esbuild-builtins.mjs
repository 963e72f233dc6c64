// An esbuild plugin for every bundle of ours (scripts/bundle.mjs, scripts/package.mjs):
// Node's built-in modules without their ES-module facades.
//
// An ES module's `import ... from 'node:x'`, and any `import('node:x')`, gets a
// facade that reads every export of the built-in, lazy getters included. On
// Node 22 and 24, node:http's lazy WebSocket getters load undici: the SDK's
// `import('node:http')` cost 33 ms at every run that talks to S3 (`import` of
// it 62.9 ms against `process.getBuiltinModule` 31.7 ms, an empty module 29.8 ms;
// hyperfine, 40 runs, Node 24). Each import of a built-in is pointed at a
// CommonJS module that is the built-in (process.getBuiltinModule), whose
// exports esbuild's interop reads only where the code uses them.
import { isBuiltin } from 'node:module';

/** @returns {import('esbuild').Plugin} */
export function builtinsWithoutFacades() {
  return {
    name: 'builtins-without-facades',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z][a-z0-9_/]*$/ }, ({ path: spec, kind }) =>
        kind !== 'require-call' && isBuiltin(spec)
          ? { path: spec.startsWith('node:') ? spec : `node:${spec}`, namespace: 'builtin' }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path: spec }) => ({
        contents: `module.exports = process.getBuiltinModule(${JSON.stringify(spec)});`,
        loader: 'js',
      }));
    },
  };
}
