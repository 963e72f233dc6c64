// Raw baseline: the least a client can do against the server. Unsigned HTTP PUTs
// (s3rver accepts anonymous requests), keep-alive, N in flight, one PUT per file
// (no multipart, no HEAD, no checksum). Shows how fast the server itself goes.
// usage: raw-put.mjs http://127.0.0.1:PORT BUCKET KEY_PREFIX DIR CONCURRENCY
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [endpoint, bucket, prefix, dir, conc] = process.argv.slice(2);
if (!endpoint || !bucket || !prefix || !dir || !conc)
  throw new Error('usage: raw-put.mjs http://127.0.0.1:PORT BUCKET KEY_PREFIX DIR CONCURRENCY');
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(conc) });
const files = fs
  .readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isFile())
  .map((d) => d.name);
const base = new URL(endpoint);

/** @param {string} name @returns {Promise<void>} */
function put(name) {
  const file = path.join(/** @type {string} */ (dir), name);
  const size = fs.statSync(file).size;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: 'PUT',
        path: `/${bucket}/${prefix}/${encodeURIComponent(name)}`,
        headers: { 'content-length': size, 'content-type': 'application/gzip' },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`${name}: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    fs.createReadStream(file, { highWaterMark: 1 << 20 })
      .on('error', reject)
      .pipe(req);
  });
}

let next = 0;
async function worker() {
  while (next < files.length) await put(/** @type {string} */ (files[next++]));
}
await Promise.all(Array.from({ length: Number(conc) }, worker));
agent.destroy();
