// The V8 settings both commands run with, in every form: put on the command line
// of the npm launchers (their first lines, scripts/bundle.mjs) and into the
// executable's configuration (SEA execArgv, scripts/package.mjs). V8 reads them
// only when the process starts: v8.setFlagsFromString() later changes nothing.
//
// --max-semi-space-size=1 (MiB): a young generation of at most 2 MiB. Node 24
// grows it to 16 MiB in a pass: a --once upload of a 1 GB archive peaked at
// 141-142 MB with it and 174-179 MB without (RGW, --jobs 8, alternating).
//
// Nothing else: any flag that changes V8's code (--optimize-for-size,
// --expose-gc) makes Node compile each of its own modules again at every start,
// its cache of them being made for no flags. --expose-gc and
// --optimize-for-size cost a one-file upload 0.22 s against 0.18 s of wall
// (10 rounds, alternating, Node 24); logjam-compress takes `gc` at run time
// instead (its collect.ts). This flag changes no code: the cache still holds.
export const NODE_FLAGS = ['--max-semi-space-size=1'];
