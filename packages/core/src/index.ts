export * from './logfile.js';
export * from './errors.js';
export * from './fsx.js';
export * from './log.js';
export * from './lock.js';
export * from './watch.js';
export * from './service.js';
export * from './cli.js';
