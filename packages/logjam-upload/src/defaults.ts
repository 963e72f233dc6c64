// Defaults shared by the CLI and the CommonJS launcher (which sizes libuv's
// threadpool from --jobs before the program loads): one place for each value.

/** --jobs when not given: files uploaded in parallel. */
export const DEFAULT_JOBS = 4;
