// The local S3 (s3rver, in a process of its own) every upload row talks to,
// and the environment each client needs to reach it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseLogName } from '@logjam/core';
import { HERE, OUT, ROOT } from './paths.mjs';
import { RgwServer } from './rgw.mjs';
import { mkdir, rm } from './util.mjs';

/**
 * The server's store lives in memory (tmpfs) where the machine has one: on
 * disk, the write-back of the 150 MB an upload had just stored stalled
 * whichever run came next (the same PUT took 1.0 to 3.0 s from round to
 * round, for every tool, the raw baseline too). In memory, rounds still vary
 * with the machine's speed, but all tools together. Objects are then removed
 * after each run (to bound the memory), which costs nothing on tmpfs.
 */
export const SHM = '/dev/shm';

/** A running s3rver. */
export class S3Server {
  /**
   * @param {import('node:child_process').ChildProcess} child
   * @param {number} port
   * @param {string} dir its store
   * @param {boolean} inMemory whether `dir` is on tmpfs
   */
  constructor(child, port, dir, inMemory) {
    this.child = child;
    this.port = port;
    this.dir = dir;
    this.inMemory = inMemory;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** @returns {Promise<S3Server>} */
  static async start() {
    const inMemory = fs.existsSync(SHM) && fs.statSync(SHM).isDirectory();
    const dir = inMemory ? fs.mkdtempSync(path.join(SHM, 'logjam-bench-s3rver-')) : path.join(OUT, 's3rver');
    rm(dir);
    mkdir(dir);
    const child = spawn(process.execPath, [path.join(HERE, 'lib/s3rver.mjs'), dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const stdout = /** @type {import('node:stream').Readable} */ (child.stdout);
    /** @type {number} */
    const port = await new Promise((resolve, reject) => {
      let buf = '';
      stdout.on('data', (d) => {
        buf += d;
        const m = buf.match(/\{"port":(\d+)\}/);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (c) => reject(new Error(`s3rver exited ${c}`)));
    });
    stdout.resume();
    return new S3Server(child, port, dir, inMemory);
  }

  stop() {
    this.child.kill('SIGTERM');
    if (this.inMemory) rm(this.dir);
  }

  /**
   * Every run gets a bucket of its own, named as its key prefix and created
   * empty just before it. s3rver answers HeadBucket, which logjam-upload sends
   * at start-up (to fail early on a wrong bucket or credentials), by listing
   * the bucket's first 1,000 objects (its router serves HEAD with the GET
   * handler): 45 ms with 240 objects in the bucket, 150 ms with 10,240
   * (measured); S3's HeadBucket does not depend on what the bucket holds. In
   * one shared bucket, every logjam run paid for the objects of the runs before it.
   * @param {string} name
   * @returns {Promise<void>}
   */
  freshBucket(name) {
    return new Promise((resolve, reject) => {
      const req = http.request(`${this.url}/${name}`, { method: 'PUT' }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(new Error(`cannot create bucket ${name} on s3rver: HTTP ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** An object's URL on s3rver (path style, each segment of the key encoded). @param {string} bucket @param {string} key */
  objectUrl(bucket, key) {
    return `${this.url}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** The status and SHA-256 of an object. @param {string} bucket @param {string} key @returns {Promise<{ status: number | undefined, sha: string }>} */
  get(bucket, key) {
    return new Promise((resolve, reject) => {
      http
        .get(this.objectUrl(bucket, key), (res) => {
          const h = crypto.createHash('sha256');
          res.on('data', (c) => h.update(c));
          res.on('end', () => resolve({ status: res.statusCode, sha: h.digest('hex') }));
        })
        .on('error', reject);
    });
  }

  /** s3rver counts no requests (RGW's access log does: lib/rgw.mjs). @param {string} _bucket @returns {null} */
  requests(_bucket) {
    return null;
  }

  /** Deletes one object (s3rver counts no requests). @param {string} bucket @param {string} key @returns {Promise<void>} */
  remove(bucket, key) {
    return new Promise((resolve, reject) => {
      http
        .request(this.objectUrl(bucket, key), { method: 'DELETE' }, (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 204 || res.statusCode === 200
              ? resolve()
              : reject(new Error(`cannot delete ${key} on s3rver: HTTP ${res.statusCode}`)),
          );
        })
        .on('error', reject)
        .end();
    });
  }

  /** Objects in a run's bucket (freshBucket). @param {string} bucket */
  count(bucket) {
    const dir = path.join(this.dir, bucket);
    if (!fs.existsSync(dir)) return 0;
    return fs.readdirSync(dir, { recursive: true }).filter((n) => String(n).endsWith('._S3rver_object')).length;
  }

  /** Removes a run's bucket and its objects. @param {string} bucket */
  drop(bucket) {
    rm(path.join(this.dir, bucket));
  }

  /** The environment logjam-upload (and the AWS SDK) needs: s3rver's fixed credentials, no config of the user's. */
  env() {
    return {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: path.join(OUT, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(OUT, 'no-aws-credentials'),
      ...NO_TLS_FILES,
    };
  }

  awsCliEnv() {
    return {
      ...this.env(),
      AWS_EC2_METADATA_DISABLED: 'true',
      // recent CLIs default to aws-chunked bodies with trailing checksums, which s3rver stores verbatim
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
      AWS_PAGER: '',
    };
  }

  /** rclone's remote `s3bench:`, configured from the environment alone. */
  rcloneEnv() {
    return {
      // rclone's AWS SDK fails on an AWS_CA_BUNDLE even for an http:// endpoint ("LoadCustomCABundleError")
      AWS_CA_BUNDLE: undefined,
      RCLONE_CONFIG: path.join(OUT, 'no-rclone.conf'),
      RCLONE_CONFIG_S3BENCH_TYPE: 's3',
      RCLONE_CONFIG_S3BENCH_PROVIDER: 'Other',
      RCLONE_CONFIG_S3BENCH_ENDPOINT: this.url,
      RCLONE_CONFIG_S3BENCH_ACCESS_KEY_ID: 'S3RVER',
      RCLONE_CONFIG_S3BENCH_SECRET_ACCESS_KEY: 'S3RVER',
      RCLONE_CONFIG_S3BENCH_REGION: 'us-east-1',
      RCLONE_CONFIG_S3BENCH_FORCE_PATH_STYLE: 'true',
    };
  }

  /** logjam-upload's arguments for a `--once` run of `dir` into run `p`'s bucket. @param {string} dir @param {string} p */
  logjamArgs(dir, p) {
    return [dir, logjamTemplate(p), '--endpoint-url', this.url, '--force-path-style'];
  }
}

/** Starts the server on first use, so that sections without uploads never start one. */
export class LazyS3 {
  /** @type {Promise<S3Server> | null} */
  #server = null;
  /** @type {S3Server | null} */
  #started = null;
  /** @type {Promise<RgwServer> | null} */
  #rgw = null;
  /** @type {RgwServer | null} */
  #rgwStarted = null;

  /** @param {'s3rver' | 'rgw'} uploadServer the upload section's server (--server) */
  constructor(uploadServer = 's3rver') {
    this.uploadServer = uploadServer;
  }

  start() {
    this.#server ??= S3Server.start().then((s) => (this.#started = s));
    return this.#server;
  }

  /** The upload section's server: s3rver, or with --server rgw the repository's RGW. @returns {Promise<S3Server | RgwServer>} */
  forUpload() {
    if (this.uploadServer !== 'rgw') return this.start();
    this.#rgw ??= RgwServer.start().then((s) => (this.#rgwStarted = s));
    return this.#rgw;
  }

  stop() {
    this.#started?.stop();
    this.#rgwStarted?.stop();
    this.#server = this.#started = this.#rgw = this.#rgwStarted = null;
  }
}

/**
 * No run talks TLS, and a host's CA file is no part of what is measured: Node 20
 * reads NODE_EXTRA_CA_CERTS at every start (this machine's, 140 certificates:
 * 38 ms of every run, measured), Node 22 and later only once TLS is used.
 */
export const NO_TLS_FILES = { NODE_EXTRA_CA_CERTS: undefined };

/** logjam-upload's template for a run: bucket and key prefix both named after it (freshBucket). @param {string} run */
export const logjamTemplate = (run) => `s3://${run}/${run}/{prefix}/{year}/{month}/{day}/{filename}`;

/** The key logjam-upload renders for `name` under the bench template (core's reading of the name). @param {string} prefix @param {string} name */
export function logjamKey(prefix, name) {
  const n = parseLogName(name);
  if (!n) throw new Error(`${name} is not a log file name`);
  return `${prefix}/${n.prefix}/${n.year}/${n.month}/${n.day}/${name}`;
}
