#!/usr/bin/env node
// The logjam-compress command: bundled by scripts/bundle.mjs as CommonJS into
// bin/logjam-compress.cjs (the package's `bin`), beside the program itself,
// bin/logjam-compress.mjs. It sizes libuv's threadpool from --jobs (unless
// UV_THREADPOOL_SIZE is set) and only then loads the program: libuv reads the
// variable once, when the pool starts, and loading an ES module starts it.
import { sizeThreadpool } from '@logjam/core/threadpool';
import { defaultJobs } from './defaults.js';

sizeThreadpool(process.argv.slice(2), process.env, defaultJobs);
// A variable, so that neither tsc nor esbuild resolves it: it is the bundle beside this file.
const program = './logjam-compress.mjs';
import(program).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
