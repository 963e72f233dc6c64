// The V8 settings both commands run with, in every form: put on the command line
// of the npm launchers (their first lines, scripts/bundle.mjs) and into the
// executable's configuration (SEA execArgv, scripts/package.mjs). V8 reads them
// only when the process starts: v8.setFlagsFromString() later changes nothing.
//
// --max-semi-space-size=1 (MiB): a young generation of at most 2 MiB. Node 24
// grows it to 16 MiB after an upload pass and keeps it while idle: an idle
// upload service held 87 -> 82 MB, and a pass of 500 small archives peaked at
// 126 -> 110 MB, for the same CPU (within the noise; docs/performance.md).
// --optimize-for-size: V8 favours smaller code and heap over speed; on top of
// the first, the idle upload service 82 -> 79 MB, the compress service 57.6 ->
// 56.0 MB, that pass's peak 109 -> 99 MB, its CPU within the noise.
// --expose-gc: logjam-compress collects its garbage itself (its collect.ts):
// Node 24 starts a collection for Buffers only after 64 MB more of them, and
// a 1 GB log then peaked at 157 MB; with it, 116 MB for the same CPU
// (side by side, alternating; docs/performance.md).
export const NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size', '--expose-gc'];
