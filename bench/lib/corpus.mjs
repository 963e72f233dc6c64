// Deterministic synthetic corpus: haproxy- and nginx-style access-log lines,
// hourly files with past stamps and old mtimes, and archives for the upload rows.
// Everything derives from a seed, so two machines get the same bytes.
import fs from 'node:fs';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { pipeline } from 'node:stream/promises';

export const SUFFIX = 'us-west-2-i-ae23fega';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** mulberry32: small, fast, seeded. @param {number} seed @returns {() => number} */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The element at `i`, which the callers keep in range.
 * @template T @param {T[]} arr @param {number} i @returns {T}
 */
const item = (arr, i) => /** @type {T} */ (arr[i]);

const pad2 = (/** @type {number} */ n) => (n < 10 ? '0' : '') + n;
const pad3 = (/** @type {number} */ n) => (n < 10 ? '00' : n < 100 ? '0' : '') + n;

/** Compact stamp of a Date: 20130704T0000Z. @param {Date} d */
export function stamp(d) {
  return `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}Z`;
}

/** Old mtime for a file of the period starting at `d`: the end of its hour. @param {string} file @param {Date} d */
export function setOldMtime(file, d) {
  const t = new Date(d.getTime() + 3600_000);
  fs.utimesSync(file, t, t);
}

/** @param {() => number} r */
function makePools(r) {
  /** @type {<T>(arr: T[]) => T} */
  const pick = (arr) => item(arr, Math.floor(r() * arr.length));
  const hex = (/** @type {number} */ n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
    return s;
  };
  const ips = [];
  for (let i = 0; i < 20000; i++) {
    const kind = r();
    if (kind < 0.15) ips.push(`10.${Math.floor(r() * 4)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`);
    else
      ips.push(
        `${1 + Math.floor(r() * 223)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`,
      );
  }
  /** @type {((v: number) => string)[]} */
  const browsers = [
    (v) =>
      `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.${3000 + ((v * 37) % 900)}.${(v * 13) % 200} Safari/537.36`,
    (v) =>
      `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_${7 + (v % 9)}_${v % 5}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${5 + (v % 12)}.${v % 3} Safari/605.1.15`,
    (v) => `Mozilla/5.0 (X11; Linux x86_64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`,
    (v) =>
      `Mozilla/5.0 (iPhone; CPU iPhone OS ${5 + (v % 12)}_${v % 4} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148`,
    (v) =>
      `Mozilla/5.0 (Linux; Android ${4 + (v % 10)}; SM-G9${v % 100}F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.${2000 + v * 11} Mobile Safari/537.36`,
    () => `Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)`,
    () => `Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)`,
    (v) => `curl/7.${20 + (v % 60)}.${v % 3}`,
    (v) => `python-requests/2.${v % 32}.${v % 4}`,
    () => `Go-http-client/1.1`,
    () => `ELB-HealthChecker/2.0`,
    (v) => `okhttp/3.${v % 15}.${v % 3}`,
  ];
  const uas = [];
  // three in four agents are browsers, the rest bots, health checks and scripts
  for (let i = 0; i < 300; i++)
    uas.push(item(browsers, r() < 0.75 ? Math.floor(r() * 5) : 5 + Math.floor(r() * 7))(20 + Math.floor(r() * 100)));
  const words = [
    'shoes',
    'laptop',
    'coffee',
    'garden',
    'bike',
    'camera',
    'desk',
    'lamp',
    'phone',
    'watch',
    'book',
    'jacket',
    'tent',
    'guitar',
    'kettle',
    'sofa',
    'paint',
    'drill',
    'mug',
    'bag',
  ];
  const slugs = [];
  for (let i = 0; i < 2000; i++) slugs.push(`${pick(words)}-${pick(words)}-${pick(words)}`);
  const assets = [];
  for (let i = 0; i < 60; i++)
    assets.push(
      `/static/${pick(['js', 'css', 'img', 'fonts'])}/${pick(words)}.${hex(8)}.${pick(['js', 'css', 'png', 'woff2', 'svg'])}`,
    );
  const sessions = [];
  for (let i = 0; i < 5000; i++) sessions.push(`${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`);
  const servers = [];
  for (let i = 1; i <= 12; i++) servers.push(`app-${pad2(i)}`);
  return { ips, uas, words, slugs, assets, sessions, servers, hex };
}

/** @param {number} seed @param {string} style @param {string} host @returns {(tMs: number) => string} */
function makeLineGen(seed, style, host) {
  const r = prng(seed);
  const P = makePools(r);
  /** @type {<T>(arr: T[]) => T} */
  const pick = (arr) => item(arr, Math.floor(r() * arr.length));
  /** @type {<T>(arr: T[], e?: number) => T} */
  const skew = (arr, e = 3) => item(arr, Math.floor(arr.length * r() ** e));
  const id = () => 1 + Math.floor(r() ** 2 * 2_000_000);
  const path = () => {
    const x = r();
    if (x < 0.28) return skew(P.assets, 2);
    if (x < 0.4) return `/api/v1/users/${id()}`;
    if (x < 0.5) return `/api/v1/orders/${id()}/items?limit=${pick([10, 20, 50, 100])}`;
    if (x < 0.58) return `/product/${skew(P.slugs)}-${id()}`;
    if (x < 0.64) return `/search?q=${pick(P.words)}+${pick(P.words)}&page=${1 + Math.floor(r() ** 3 * 20)}`;
    if (x < 0.7) return `/api/v2/sessions/${skew(P.sessions, 2)}`;
    if (x < 0.74) return `/images/products/${id()}_${pick(['thumb', 'large', 'zoom'])}.jpg`;
    if (x < 0.8) return '/health';
    if (x < 0.84) return '/';
    if (x < 0.87) return `/blog/${skew(P.slugs)}`;
    return pick([
      '/cart',
      '/checkout',
      '/login',
      '/logout',
      '/favicon.ico',
      '/robots.txt',
      '/account/settings',
      '/api/v1/cart',
      '/sitemap.xml',
      '/wp-login.php',
    ]);
  };
  const method = () => {
    const x = r();
    return x < 0.86
      ? 'GET'
      : x < 0.95
        ? 'POST'
        : x < 0.97
          ? 'PUT'
          : x < 0.985
            ? 'HEAD'
            : x < 0.995
              ? 'DELETE'
              : 'OPTIONS';
  };
  const status = () => {
    const x = r();
    if (x < 0.8) return 200;
    if (x < 0.86) return 304;
    if (x < 0.89) return pick([301, 302]);
    if (x < 0.945) return 404;
    if (x < 0.975) return pick([400, 401, 403, 429]);
    if (x < 0.985) return 201;
    if (x < 0.99) return 204;
    return pick([500, 502, 503, 504]);
  };
  const latency = () => Math.floor(Math.exp(r() * 4 + r() * 3)); // ms, long tail
  const bytes = (/** @type {number} */ st) => (st === 304 || st === 204 ? 0 : Math.floor(Math.exp(4 + r() * 8)));
  const ref = () => {
    const x = r();
    if (x < 0.5) return '-';
    if (x < 0.8) return `https://www.example.com${path()}`;
    if (x < 0.92) return `https://www.google.com/search?q=${pick(P.words)}+${pick(P.words)}`;
    return pick([
      'https://t.co/' + P.hex(10),
      'https://www.facebook.com/',
      'https://duckduckgo.com/',
      'android-app://com.google.android.gm/',
    ]);
  };
  let lastSec = -1;
  let secStr = '';
  let sysStr = '';
  const pid = 1000 + Math.floor(r() * 30000);
  return (tMs) => {
    const sec = Math.floor(tMs / 1000);
    if (sec !== lastSec) {
      lastSec = sec;
      const d = new Date(sec * 1000);
      const dd = pad2(d.getUTCDate());
      const mon = MONTHS[d.getUTCMonth()];
      const hms = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
      secStr = `${dd}/${mon}/${d.getUTCFullYear()}:${hms}`;
      sysStr = `${mon} ${d.getUTCDate() < 10 ? ' ' : ''}${d.getUTCDate()} ${hms}`;
    }
    const ip = skew(P.ips, 3);
    const st = status();
    const lat = latency();
    const ua = skew(P.uas, 2);
    if (style === 'nginx') {
      const up = (lat / 1000).toFixed(3);
      return `${ip} - - [${secStr} +0000] "${method()} ${path()} HTTP/1.1" ${st} ${bytes(st)} "${ref()}" "${ua}" ${((lat + Math.floor(r() * 3)) / 1000).toFixed(3)} ${up}\n`;
    }
    const tq = Math.floor(r() * 3),
      tw = r() < 0.95 ? 0 : Math.floor(r() * 50),
      tc = Math.floor(r() * 3);
    const conn = 100 + Math.floor(r() * 400);
    return `${sysStr} ${host} haproxy[${pid}]: ${ip}:${1024 + Math.floor(r() * 64000)} [${secStr}.${pad3(tMs % 1000)}] www-https~ be_app/${pick(P.servers)} ${tq}/${tw}/${tc}/${lat}/${tq + tw + tc + lat} ${st} ${bytes(st)} - - ${st >= 500 ? 'SH--' : '----'} ${conn}/${conn - 2}/${Math.floor(r() * 40)}/${Math.floor(r() * 10)}/0 0/0 {www.example.com|${ua}} "${method()} ${path()} HTTP/1.1"\n`;
  };
}

/**
 * Write about `size` bytes of log lines for the hour starting at `start` into `file`.
 * @param {string} file @param {{ size: number, style: string, seed: number, start: Date }} options
 */
export function writeLogFile(file, { size, style, seed, start }) {
  const gen = makeLineGen(seed, style, 'lb-' + pad2(1 + (seed % 8)));
  const fd = fs.openSync(file, 'w');
  const t0 = start.getTime();
  let written = 0;
  let buf = [];
  let bufLen = 0;
  try {
    while (written + bufLen < size) {
      const line = gen(t0 + Math.floor((3600_000 * (written + bufLen)) / size));
      buf.push(line);
      bufLen += line.length;
      if (bufLen >= 1 << 20) {
        written += fs.writeSync(fd, buf.join(''));
        buf = [];
        bufLen = 0;
      }
    }
    if (bufLen) written += fs.writeSync(fd, buf.join(''));
  } finally {
    fs.closeSync(fd);
  }
  setOldMtime(file, start);
  return written;
}

/** Deterministic incompressible bytes (AES-CTR keystream of a seed), wrapped as a stored gzip. @param {string} file @param {number} size @param {string} seed */
export async function writeRandomGzip(file, size, seed) {
  const key = crypto
    .createHash('sha256')
    .update('logjam-bench-' + seed)
    .digest()
    .subarray(0, 16);
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zero = Buffer.alloc(1 << 20);
  let left = size;
  async function* src() {
    while (left > 0) {
      const n = Math.min(left, zero.length);
      left -= n;
      yield cipher.update(n === zero.length ? zero : zero.subarray(0, n));
    }
  }
  await pipeline(src, zlib.createGzip({ level: 0 }), fs.createWriteStream(file));
}

/** Small real gzip archive of a few log lines. @param {number} seed @param {number} lines @param {Date} start */
export function smallGzip(seed, lines, start) {
  const gen = makeLineGen(seed, seed % 2 ? 'nginx' : 'haproxy', 'lb-01');
  let s = '';
  for (let i = 0; i < lines; i++) s += gen(start.getTime() + Math.floor((3600_000 * i) / lines));
  return zlib.gzipSync(s, { level: 6 });
}
