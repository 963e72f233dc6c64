// How logjam-upload's proxy code compares with the npm proxy agents on the
// request path: N small GETs, 4 at a time, through a forward proxy on
// 127.0.0.1 (test/support/forward-proxy.ts), per agent, agents alternating,
// 3 rounds: the client's CPU per request (median round) and the CONNECTs and
// connections it took. HTTPS to a server with a CA made here, and plain HTTP.
//
//   npm install --prefix /tmp/agents https-proxy-agent@9 http-proxy-agent@9 hpagent@1
//   npm run build && AGENTS=/tmp/agents node --import tsx bench/proxy-agents.mjs   # needs openssl
//
// Without AGENTS, only logjam's own code and direct requests are measured.
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const dist = path.join(path.dirname(here), '../packages/logjam-upload/dist');
const N = Number(process.env.N ?? 600);
const C = 4;

if (process.argv[2] === 'servers') await servers(process.argv[3] ?? '');
else await measure();

/** The origin (HTTP and HTTPS) and the forward proxy, in a process of their own: the client's CPU is its own. */
async function servers(/** @type {string} */ dir) {
  const { startForwardProxy } = await import('../test/support/forward-proxy.ts');
  const body = Buffer.alloc(512, 'x');
  /** @type {http.RequestListener} */
  const handler = (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': body.length }).end(body));
  };
  const plain = http.createServer({ keepAliveTimeout: 60_000 }, handler);
  const secure = https.createServer(
    {
      key: readFileSync(path.join(dir, 'server.key')),
      cert: readFileSync(path.join(dir, 'server.pem')),
      keepAliveTimeout: 60_000,
    },
    handler,
  );
  let connections = 0;
  for (const server of [plain, secure]) server.on('connection', () => connections++);
  const listen = (/** @type {http.Server} */ server) =>
    new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve(/** @type {import('node:net').AddressInfo} */ (server.address()).port),
      ),
    );
  const proxy = await startForwardProxy();
  process.send?.({ http: await listen(plain), https: await listen(secure), proxy: proxy.port });
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message) => {
    if (message === 'reset') {
      proxy.requests.length = 0;
      connections = 0;
      process.send?.('reset');
    } else process.send?.({ requests: proxy.requests.length, connects: proxy.tunnels().length, connections });
  });
}

async function measure() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'logjam-proxy-bench-'));
  // The test suite's CA and server certificate (openssl), for localhost.
  const { makeTestCa } = await import('../test/support/tls.ts');
  const { ca } = await makeTestCa(dir);
  const child = fork(here, ['servers', dir], { execArgv: process.execArgv });
  /** @type {(message: string) => Promise<any>} */
  const ask = (message) => new Promise((resolve) => (child.once('message', resolve), child.send(message)));
  /** @type {any} */
  const ports = await new Promise((resolve) => child.once('message', resolve));
  const proxyUrl = `http://127.0.0.1:${ports.proxy}`;
  const { createTunnelingAgent, proxyRequest } = await import(path.join(dist, 'proxy-agent.js'));
  const { readProxySettings, proxyFor } = await import(path.join(dist, 'proxy.js'));
  const settings = readProxySettings({ HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl });
  const keep = { keepAlive: true, maxSockets: C };
  const tls = { host: 'localhost', port: ports.https, path: '/', ca };
  const plain = { host: 'localhost', port: ports.http, path: '/' };
  /** @type {Array<{ name: string, agent: () => http.Agent, request?: (agent: http.Agent) => http.ClientRequest }>} */
  const variants = [
    { name: 'https direct', agent: () => new https.Agent({ ...keep, ca }) },
    {
      name: 'https logjam (CONNECT, TunnelingAgent)',
      agent: () => createTunnelingAgent({ ...keep, ca }, settings, 5000),
    },
    { name: 'http direct', agent: () => new http.Agent(keep) },
    {
      name: 'http logjam (absolute URI)',
      agent: () => new http.Agent(keep),
      request: (agent) => {
        const to = proxyRequest(
          {
            protocol: 'http:',
            hostname: 'localhost',
            port: ports.http,
            path: '/',
            headers: { host: `localhost:${ports.http}` },
          },
          proxyFor(settings, 'http:', 'localhost', ports.http),
        );
        return http.request({ host: to.hostname, port: to.port, path: to.path, headers: to.headers, agent });
      },
    },
  ];
  if (process.env.AGENTS) {
    // Not the project's dependencies: loaded from the folder they were installed in for this comparison.
    const load = /** @type {(id: string) => any} */ (createRequire(path.join(process.env.AGENTS, 'node_modules/')));
    const { HttpsProxyAgent } = load('https-proxy-agent');
    const { HttpProxyAgent } = load('http-proxy-agent');
    const hpagent = load('hpagent');
    variants.push(
      { name: 'https https-proxy-agent 9', agent: () => new HttpsProxyAgent(proxyUrl, keep) },
      { name: 'https hpagent 1', agent: () => new hpagent.HttpsProxyAgent({ ...keep, proxy: proxyUrl }) },
      { name: 'http http-proxy-agent 9', agent: () => new HttpProxyAgent(proxyUrl, keep) },
    );
  }
  /** @type {Map<string, Array<{ us: number, requests: number, connects: number, connections: number }>>} */
  const rows = new Map();
  try {
    for (let round = 0; round < 3; round++) {
      for (const variant of variants) {
        await ask('reset');
        const agent = variant.agent();
        const isTls = variant.name.startsWith('https');
        const send =
          variant.request ??
          ((/** @type {http.Agent} */ a) => (isTls ? https : http).request({ ...(isTls ? tls : plain), agent: a }));
        const once = () =>
          new Promise((resolve, reject) => {
            const req = send(agent);
            req.on('response', (res) => (res.resume(), res.on('end', resolve)));
            req.on('error', reject);
            req.end();
          });
        const cpu = process.cpuUsage();
        let left = N;
        await Promise.all(
          Array.from({ length: C }, async () => {
            while (left-- > 0) await once();
          }),
        );
        const used = process.cpuUsage(cpu);
        const counts = await ask('counts');
        agent.destroy();
        rows.set(variant.name, [...(rows.get(variant.name) ?? []), { us: (used.user + used.system) / N, ...counts }]);
      }
    }
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `${N} GETs of 512 bytes, ${C} at a time, per agent; median of 3 rounds, agents alternating; Node ${process.version}, ${os.availableParallelism()} cores, load ${(os.loadavg()[0] ?? 0).toFixed(1)}\n`,
  );
  console.log(
    '| agent | client CPU per request | CONNECTs to the proxy | connections the origin accepted |\n|---|---|---|---|',
  );
  for (const [name, runs] of rows) {
    const us = runs.map((r) => r.us).sort((a, b) => a - b)[1] ?? 0;
    const last = runs.at(-1);
    // Through the proxy, plain HTTP reaches the origin on the proxy's own kept-alive connections.
    console.log(
      `| ${name} | ${us.toFixed(0)} µs | ${last?.connects} | ${name.startsWith('http ') && !name.includes('direct') ? "(the proxy's)" : last?.connections} |`,
    );
  }
}
