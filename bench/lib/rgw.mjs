// The repository's Ceph RGW (scripts/rgw.sh: one memstore OSD, 127.0.0.1) as
// the upload section's server (--server rgw), with the same face as s3rver's
// S3Server (lib/s3.mjs). Requests are counted from RGW's own access log (its
// beast frontend logs every request, bucket in the path), so that no proxy
// sits between a tool and the server.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { OUT, ROOT } from './paths.mjs';
import { NO_TLS_FILES, logjamTemplate } from './s3.mjs';

/** The uploader's user of scripts/rgw.sh (fixed keys, as in test/support/rgw.ts). */
const KEY = 'LOGJAMRGWTESTKEY0001';
const SECRET = 'logjam-rgw-test-secret-0001';

export class RgwServer {
  /** @param {string} url @param {string} dir scripts/rgw.sh's folder @param {boolean} ours whether this run started it (and stops it) */
  constructor(url, dir, ours) {
    this.url = url;
    this.rgwDir = dir;
    this.ours = ours;
    /** memstore: objects live in the OSD's memory, and are deleted after each run. */
    this.inMemory = true;
    /** No folder of objects to sweep at the end (S3Server's); buckets are dropped one by one. */
    this.dir = null;
    this.log = path.join(dir, 'log', 'client.rgw.log');
    this.client = new S3Client({
      endpoint: url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
    });
    /** @type {Map<string, number>} the access log's size when each bucket's run started */
    this.marks = new Map();
  }

  /**
   * Starts scripts/rgw.sh in LOGJAM_RGW_DIR (default: bench/out/rgw), or uses
   * the one it finds running there. Stopped at the end only if started here.
   */
  static async start() {
    const dir = process.env.LOGJAM_RGW_DIR || path.join(OUT, 'rgw');
    const env = { ...process.env, LOGJAM_RGW_DIR: dir };
    const running = spawnSync(path.join(ROOT, 'scripts/rgw.sh'), ['env'], { env, encoding: 'utf8' }).status === 0;
    const r = spawnSync(path.join(ROOT, 'scripts/rgw.sh'), ['start'], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = /LOGJAM_TEST_RGW=(\S+)/.exec(r.stdout ?? '')?.[1];
    if (r.status !== 0 || !url)
      throw new Error(
        `scripts/rgw.sh start failed (exit ${r.status}); needs apt-get install ceph-mon ceph-osd radosgw ceph-common`,
      );
    return new RgwServer(url, dir, !running);
  }

  stop() {
    if (this.ours)
      spawnSync(path.join(ROOT, 'scripts/rgw.sh'), ['stop'], {
        env: { ...process.env, LOGJAM_RGW_DIR: this.rgwDir },
        stdio: 'ignore',
      });
  }

  /** A fresh bucket for run `name`; its requests are counted from here on. @param {string} name */
  async freshBucket(name) {
    await this.client.send(new CreateBucketCommand({ Bucket: name }));
    this.marks.set(name, fs.statSync(this.log).size);
  }

  /**
   * Requests to a run's bucket since freshBucket, by method, from RGW's access
   * log (call it right after the run, before count or get add their own).
   * @param {string} bucket @returns {Record<string, number>}
   */
  requests(bucket) {
    const from = this.marks.get(bucket) ?? 0;
    const fd = fs.openSync(this.log, 'r');
    const size = fs.fstatSync(fd).size;
    const text = Buffer.alloc(Math.max(0, size - from));
    fs.readSync(fd, text, 0, text.length, from);
    fs.closeSync(fd);
    /** @type {Record<string, number>} */
    const byMethod = {};
    const line = new RegExp(`beast: \\S+ .*"([A-Z]+) /${bucket}[/? ]`, 'g');
    for (const m of text.toString('utf8').matchAll(line)) byMethod[m[1] ?? '?'] = (byMethod[m[1] ?? '?'] ?? 0) + 1;
    return byMethod;
  }

  /** The status and SHA-256 of an object. @param {string} bucket @param {string} key */
  async get(bucket, key) {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await out.Body?.transformToByteArray();
      return {
        status: out.$metadata.httpStatusCode,
        sha: crypto
          .createHash('sha256')
          .update(bytes ?? new Uint8Array())
          .digest('hex'),
      };
    } catch (error) {
      return {
        status: /** @type {{ $metadata?: { httpStatusCode?: number } }} */ (error).$metadata?.httpStatusCode,
        sha: '',
      };
    }
  }

  /** The keys of a run's bucket. @param {string} bucket @returns {Promise<string[]>} */
  async keys(bucket) {
    const keys = [];
    let token;
    do {
      /** @type {import('@aws-sdk/client-s3').ListObjectsV2CommandOutput} */
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /**
   * Deletes one object; the bucket's requests are counted from here on, once
   * the log has taken the lines of those before (RGW writes them a moment after
   * its answers). @param {string} bucket @param {string} key
   */
  async remove(bucket, key) {
    await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    let size = -1;
    for (let i = 0; i < 40 && fs.statSync(this.log).size !== size; i++) {
      size = fs.statSync(this.log).size;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.marks.set(bucket, fs.statSync(this.log).size);
  }

  /** Objects in a run's bucket. @param {string} bucket */
  async count(bucket) {
    return (await this.keys(bucket)).length;
  }

  /** Removes a run's objects and bucket (memstore holds them in memory). @param {string} bucket */
  async drop(bucket) {
    const keys = await this.keys(bucket);
    for (let i = 0; i < keys.length; i += 1000)
      await this.client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    await this.client.send(new DeleteBucketCommand({ Bucket: bucket }));
    this.marks.delete(bucket);
  }

  env() {
    return {
      AWS_ACCESS_KEY_ID: KEY,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: path.join(OUT, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(OUT, 'no-aws-credentials'),
      // AWS_CA_BUNDLE is for https; rclone's SDK fails on one even for http:// (LoadCustomCABundleError).
      AWS_CA_BUNDLE: undefined,
      ...NO_TLS_FILES,
    };
  }

  awsCliEnv() {
    return { ...this.env(), AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' };
  }

  /** rclone's remote `s3bench:`, configured from the environment alone. */
  rcloneEnv() {
    return {
      AWS_CA_BUNDLE: undefined,
      RCLONE_CONFIG: path.join(OUT, 'no-rclone.conf'),
      RCLONE_CONFIG_S3BENCH_TYPE: 's3',
      RCLONE_CONFIG_S3BENCH_PROVIDER: 'Ceph',
      RCLONE_CONFIG_S3BENCH_ENDPOINT: this.url,
      RCLONE_CONFIG_S3BENCH_ACCESS_KEY_ID: KEY,
      RCLONE_CONFIG_S3BENCH_SECRET_ACCESS_KEY: SECRET,
      RCLONE_CONFIG_S3BENCH_REGION: 'us-east-1',
      RCLONE_CONFIG_S3BENCH_FORCE_PATH_STYLE: 'true',
    };
  }

  /** @param {string} dir @param {string} p */
  logjamArgs(dir, p) {
    return [dir, logjamTemplate(p), '--endpoint-url', this.url, '--force-path-style'];
  }
}
