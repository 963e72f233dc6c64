// Node's modules that only a pass talking to S3 needs, loaded then, not at
// start: the upload service (supervisor.ts) never loads them. On Node 24,
// node:https (TLS, OpenSSL's set-up) alone added 10 MB to an idle process.
import type http from 'node:http';
import type https from 'node:https';
import type workerThreads from 'node:worker_threads';

export const nodeHttp = (): typeof http => process.getBuiltinModule('node:http');
export const nodeHttps = (): typeof https => process.getBuiltinModule('node:https');
export const nodeWorkerThreads = (): typeof workerThreads => process.getBuiltinModule('node:worker_threads');
