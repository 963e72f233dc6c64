// The digest worker's thread (see Digester in digest.ts): MD5s of open files,
// one at a time, read with blocking reads, which only block this thread.
import { parentPort } from 'node:worker_threads';
import { DIGEST_READ, digestFdSync, type DigestAnswer, type DigestRequest } from './digest.js';

const port = parentPort;
if (!port) throw new Error('digest-worker.js runs as a worker thread only');
const buffer = Buffer.allocUnsafe(DIGEST_READ);
port.on('message', ({ id, fd, partSize }: DigestRequest) => {
  let answer: DigestAnswer;
  try {
    answer = { id, digest: digestFdSync(fd, partSize, buffer) };
  } catch (error) {
    // Not @logjam/core's errorCode: importing core would load clipanion into this thread too.
    const e = error as { message?: unknown; code?: unknown };
    answer = {
      id,
      error: { message: String(e?.message ?? error), code: typeof e?.code === 'string' ? e.code : undefined },
    };
  }
  port.postMessage(answer);
});
