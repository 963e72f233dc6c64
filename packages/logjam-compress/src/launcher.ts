// The logjam-compress command, bin/logjam-compress.cjs: sizes libuv's threadpool from --jobs, then loads the program (core's threadpool.ts says why).
import { launch } from '@logjam/core/threadpool';
import { defaultJobs } from './defaults.js';

launch('./logjam-compress.mjs', defaultJobs);
