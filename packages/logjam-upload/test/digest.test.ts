import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, patternedBytes, tmpDir } from '../../../test/support/index.ts';
import { Digester, PartHasher } from '../src/digest.ts';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('Digester (MD5s of files streamed from disk, on a worker thread)', () => {
  afterEach(cleanupTmpDirs);

  async function writeBig(size: number): Promise<{ file: string; bytes: Buffer }> {
    const bytes = patternedBytes(size);
    const file = path.join(await tmpDir(), 'big-20240105T0000Z.log.gz');
    await fs.writeFile(file, bytes);
    return { file, bytes };
  }

  it('digests on its worker: the MD5, and each part MD5, of several files at once; no fallback', async () => {
    const { file, bytes } = await writeBig(3 * 1024 * 1024 + 5);
    const fallbacks: string[] = [];
    const digester = new Digester(new AbortController().signal, (reason) => fallbacks.push(reason));
    const handles = await Promise.all([fs.open(file), fs.open(file)]);
    try {
      const [whole, parted] = await Promise.all([digester.digest(handles[0], null), digester.digest(handles[1], 1024 * 1024)]);
      expect(whole).to.deep.equal({ size: bytes.length, md5: md5(bytes) });
      const MiB = 1024 * 1024;
      expect(parted).to.deep.equal({ size: bytes.length, md5: md5(bytes), partMd5s: [0, 1, 2, 3].map((i) => md5(bytes.subarray(i * MiB, (i + 1) * MiB))) });
      expect(fallbacks).to.deep.equal([]);
    } finally {
      await digester.close();
      for (const handle of handles) await handle.close();
    }
  });

  it('a worker that cannot start: says why once, and digests on the main thread', async () => {
    const { file, bytes } = await writeBig(2 * 1024 * 1024);
    const fallbacks: string[] = [];
    const digester = new Digester(new AbortController().signal, (reason) => fallbacks.push(reason), new URL('file:///nonexistent/digest-worker.mjs'));
    const handle = await fs.open(file);
    try {
      expect(await digester.digest(handle, null)).to.deep.equal({ size: bytes.length, md5: md5(bytes) });
      expect(await digester.digest(handle, null)).to.deep.equal({ size: bytes.length, md5: md5(bytes) });
      expect(fallbacks).to.have.length(1);
      expect(fallbacks[0]).to.match(/nonexistent/);
    } finally {
      await digester.close();
      await handle.close();
    }
  });

  it('the stop signal ends a digest in progress (aborted) and stops the worker', async () => {
    const { file } = await writeBig(64 * 1024 * 1024);
    const stop = new AbortController();
    const digester = new Digester(stop.signal);
    const handle = await fs.open(file);
    try {
      const digest = digester.digest(handle, null);
      stop.abort();
      let error: unknown;
      await digest.catch((e: unknown) => (error = e));
      expect(String(error)).to.match(/aborted/);
      let later: unknown;
      await digester.digest(handle, null).catch((e: unknown) => (later = e));
      expect(String(later)).to.match(/aborted/);
    } finally {
      await digester.close();
      await handle.close();
    }
  });

  it('an idle worker never holds up the exit of a process that forgot to close it', async () => {
    const { file, bytes } = await writeBig(2 * 1024 * 1024);
    // tsc's build of digest.ts (npm test builds first), in a plain node process.
    const built = new URL('../dist/digest.js', import.meta.url).href;
    const script = `import { open } from 'node:fs/promises';
      const { Digester } = await import(${JSON.stringify(built)});
      const digester = new Digester(new AbortController().signal, (reason) => console.log('fallback', reason));
      const handle = await open(${JSON.stringify(file)});
      console.log((await digester.digest(handle, null)).md5);
      await handle.close();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, 'exit code (null: killed after 20 s, the worker held the process)').to.equal(0);
    expect(out.trim()).to.equal(md5(bytes));
  });

  it('PartHasher: the MD5 of each part, whatever the chunks it is fed', () => {
    const bytes = Buffer.alloc(2500);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 31) & 0xff;
    const expected = [md5(bytes.subarray(0, 1000)), md5(bytes.subarray(1000, 2000)), md5(bytes.subarray(2000))];
    for (const chunk of [1, 7, 999, 1000, 1001, 2500]) {
      const hasher = new PartHasher(1000);
      for (let i = 0; i < bytes.length; i += chunk) hasher.update(bytes.subarray(i, i + chunk));
      expect(hasher.digest(), `chunks of ${chunk}`).to.deep.equal(expected);
    }
    // A file that ends on a part boundary has no empty last part; an empty one has one empty part.
    const exact = new PartHasher(1250);
    exact.update(bytes);
    expect(exact.digest()).to.deep.equal([md5(bytes.subarray(0, 1250)), md5(bytes.subarray(1250))]);
    expect(new PartHasher(1000).digest()).to.deep.equal([md5(Buffer.alloc(0))]);
  });
});
