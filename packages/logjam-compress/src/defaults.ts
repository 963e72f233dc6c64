// Defaults shared by the CLI and the CommonJS launcher (which sizes libuv's
// threadpool from --jobs before the program loads): one place for each value.
import os from 'node:os';

/** --jobs when not given: the number of CPUs. */
export const defaultJobs = (): number => Math.max(1, os.availableParallelism());
