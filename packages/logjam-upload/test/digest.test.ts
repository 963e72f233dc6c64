import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, patternedBytes, tmpDir } from '../../../test/support/index.ts';
import type { FileHandle } from 'node:fs/promises';
import { Digester, isMultipartEtagOf, multipartEtag, OTHER_TOOLS_PART_SIZES, PartHasher } from '../src/digest.ts';

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
      const [whole, parted] = await Promise.all([
        digester.digest(handles[0], null),
        digester.digest(handles[1], 1024 * 1024),
      ]);
      expect(whole).to.deep.equal({ size: bytes.length, md5: md5(bytes) });
      const MiB = 1024 * 1024;
      expect(parted).to.deep.equal({
        size: bytes.length,
        md5: md5(bytes),
        partMd5s: [0, 1, 2, 3].map((i) => md5(bytes.subarray(i * MiB, (i + 1) * MiB))),
      });
      expect(fallbacks).to.deep.equal([]);
    } finally {
      await digester.close();
      for (const handle of handles) await handle.close();
    }
  });

  it('a worker that cannot start: says why once, and digests on the main thread', async () => {
    const { file, bytes } = await writeBig(2 * 1024 * 1024);
    const fallbacks: string[] = [];
    const digester = new Digester(
      new AbortController().signal,
      (reason) => fallbacks.push(reason),
      new URL('file:///nonexistent/digest-worker.mjs'),
    );
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
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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

describe('multipart ETags of other tools', () => {
  after(cleanupTmpDirs);
  const MiB = 1024 * 1024;
  /** S3's multipart ETag of `bytes` cut into `partSize` parts, computed here from the bytes. */
  const s3Etag = (bytes: Buffer, partSize: number) => {
    const md5s: Buffer[] = [];
    for (let start = 0; start < bytes.length; start += partSize)
      md5s.push(
        createHash('md5')
          .update(bytes.subarray(start, start + partSize))
          .digest(),
      );
    return `${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}`;
  };

  it('recognises a file by the ETag of its 8 MiB parts (the AWS CLI), from a fresh read', async () => {
    const bytes = patternedBytes(17 * MiB + 5);
    const file = path.join(await tmpDir(), 'f');
    await fs.writeFile(file, bytes);
    const handle = await fs.open(file);
    try {
      expect(
        await isMultipartEtagOf(
          s3Etag(bytes, 8 * MiB),
          { handle, size: bytes.length },
          OTHER_TOOLS_PART_SIZES,
          new AbortController().signal,
        ),
      ).to.equal(true);
      // The same count of parts at a size no tool used, and one changed byte, are no match.
      expect(
        await isMultipartEtagOf(
          s3Etag(bytes, 7 * MiB),
          { handle, size: bytes.length },
          OTHER_TOOLS_PART_SIZES,
          new AbortController().signal,
        ),
      ).to.equal(false);
      const changed = Buffer.from(bytes);
      changed[9 * MiB] = changed[9 * MiB]! ^ 1;
      expect(
        await isMultipartEtagOf(
          s3Etag(changed, 8 * MiB),
          { handle, size: bytes.length },
          OTHER_TOOLS_PART_SIZES,
          new AbortController().signal,
        ),
      ).to.equal(false);
    } finally {
      await handle.close();
    }
  });

  it('uses the part MD5s already taken for its own part size, without reading the file', async () => {
    const bytes = patternedBytes(11 * MiB);
    const hasher = new PartHasher(6 * MiB);
    hasher.update(bytes);
    const md5s = hasher.digest();
    expect(multipartEtag(md5s)).to.equal(s3Etag(bytes, 6 * MiB));
    // A handle that fails every read: only the known parts can answer.
    const handle = { read: () => Promise.reject(new Error('read')) } as unknown as FileHandle;
    expect(
      await isMultipartEtagOf(
        s3Etag(bytes, 6 * MiB),
        { handle, size: bytes.length, known: { size: 6 * MiB, md5s } },
        [6 * MiB],
        new AbortController().signal,
      ),
    ).to.equal(true);
  });
});
