import { expect } from 'chai';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { cleanupTmpDirs, tmpDir } from '../../../test/support/index.ts';
import { FileBody, reopenFileBodies } from '../src/client-steps.ts';

/** A client whose handler answers 200 to everything and keeps the bodies it was sent. */
function recordingClient(): { client: S3Client; bodies: Buffer[] } {
  const bodies: Buffer[] = [];
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const chunks: Buffer[] = [];
        for await (const chunk of request.body as Readable) chunks.push(chunk as Buffer);
        bodies.push(Buffer.concat(chunks));
        return { response: { statusCode: 200, headers: { etag: '"x"' }, body: undefined } };
      },
    } as never,
  });
  reopenFileBodies(client);
  return { client, bodies };
}

const put = (client: S3Client, file: string, size: number) =>
  client.send(
    new PutObjectCommand({
      Bucket: 'logs',
      Key: 'k',
      Body: new FileBody(file, size) as unknown as Uint8Array,
      ContentLength: size,
    }),
  );

describe('reopenFileBodies (a file streamed from disk, opened afresh per attempt)', () => {
  afterEach(cleanupTmpDirs);

  it("sends the file's bytes", async () => {
    const file = path.join(await tmpDir(), 'app-20240101T0000Z.log.gz');
    await fs.writeFile(file, 'the archive');
    const { client, bodies } = recordingClient();
    await put(client, file, 11);
    expect(bodies.map(String)).to.deep.equal(['the archive']);
  });

  it('never follows a symbolic link put where the archive was (its target is never read)', async () => {
    const dir = await tmpDir();
    await fs.writeFile(path.join(dir, 'secret'), 'not for S3');
    const file = path.join(dir, 'app-20240101T0000Z.log.gz');
    await fs.symlink(path.join(dir, 'secret'), file);
    const { client, bodies } = recordingClient();
    const error = await put(client, file, 10).then(
      () => null,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error?.code).to.equal('ELOOP');
    expect(bodies).to.deep.equal([]);
  });
});
