// The logjam-upload command, bin/logjam-upload.cjs: sizes libuv's threadpool from --jobs, then loads the program (core's threadpool.ts says why).
import { launch } from '@logjam/core/threadpool';
import { DEFAULT_JOBS } from './defaults.js';

launch('./logjam-upload.mjs', () => DEFAULT_JOBS);
