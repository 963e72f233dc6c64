// Summarise V8 .cpuprofile files (node --cpu-prof): self time per function.
// Only JavaScript on each profiled thread shows up; zlib's deflate runs on
// libuv's threadpool and appears, at most, as "(program)" or as idle waiting.
import fs from 'node:fs';
import path from 'node:path';

/**
 * @typedef {{ functionName: string, url: string, lineNumber: number }} CallFrame
 * @typedef {{ nodes: { id: number, callFrame: CallFrame }[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} CpuProfile
 */

/** The top `top` functions by self time of each profile in `dir`, paths relative to `root`. @param {string} dir @param {string} root */
export function summarizeProfiles(dir, root, top = 25) {
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'));
  if (!files.length) return `no .cpuprofile in ${dir}`;
  const out = [];
  for (const file of files) {
    const prof = /** @type {CpuProfile} */ (JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    /** @type {Map<string, number>} self time per function */
    const self = new Map();
    const { samples, timeDeltas } = prof;
    for (let i = 0; i < samples.length; i++) {
      const dt = timeDeltas[i + 1] ?? 0; // time until the next sample
      const node = byId.get(/** @type {number} */ (samples[i]));
      if (!node) continue;
      const cf = node.callFrame;
      const url = cf.url.replace(/^file:\/\//, '').replace(root + '/', '');
      const key = `${cf.functionName || '(anonymous)'}  ${url ? `${url}:${cf.lineNumber + 1}` : ''}`.trim();
      self.set(key, (self.get(key) || 0) + dt);
    }
    const total = prof.endTime - prof.startTime;
    const busy = [...self].filter(([k]) => !k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
    out.push(
      `\n${file}: ${(total / 1e6).toFixed(2)} s profiled, main thread busy ${(busy / 1e6).toFixed(2)} s (${((busy / total) * 100).toFixed(0)}%)`,
    );
    out.push(`  self ms    %  function  location`);
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      out.push(`  ${(v / 1000).toFixed(0).padStart(7)} ${((v / total) * 100).toFixed(1).padStart(5)}  ${k}`);
    }
    // roll-up by package/file, which often says more than single functions
    /** @type {Map<string, number>} */
    const byFile = new Map();
    for (const [k, v] of self) {
      const loc = k.split('  ')[1] || k;
      const m = loc.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const bucket =
        m?.[1] ?? (loc.startsWith('node:') ? loc.split(':').slice(0, 2).join(':') : loc.replace(/:\d+$/, ''));
      byFile.set(bucket, (byFile.get(bucket) || 0) + v);
    }
    out.push(`  -- by package / file --`);
    for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 12))
      out.push(`  ${(v / 1000).toFixed(0).padStart(7)} ${((v / total) * 100).toFixed(1).padStart(5)}  ${k}`);
  }
  return out.join('\n');
}
