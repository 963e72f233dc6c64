// What a section is given: the options, the sizes, the tools found, and the
// run's shared parts (its processes, its report, the local S3).
/**
 * @typedef {object} Bench
 * @property {import('./options.mjs').Options} opt
 * @property {import('./options.mjs').Sizes} size
 * @property {import('./tools.mjs').Tools} tools
 * @property {import('./processes.mjs').Processes} proc
 * @property {import('./report.mjs').Report} report
 * @property {import('./s3.mjs').LazyS3} s3
 */
/** A section: emits its tables into the report, and says whether everything it checked held. @typedef {(bench: Bench) => Promise<boolean>} SectionFn */
export {};
