// What conditional.ts decides: when to probe the store, what its answers
// show, when a promise of --conditional-writes is contradicted, and the probe's
// requests (a stubbed client: the stores themselves are in
// store-profile.integration.test.ts).
import { expect } from 'chai';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '@logjam/core';
import {
  choose,
  contradiction,
  judgeProbe,
  learnConditionalWrites,
  probeKey,
  settingsRefused,
  type LearnSettings,
} from '../src/conditional.ts';
import { loadSdk } from '../src/sdk.ts';
import { fakeClient, keptLogger, s3Error, type Answer } from './fake-s3.ts';

const ENDPOINT = 'http://127.0.0.1:9000';

describe('the probe and what it decides (conditional.ts, pure)', () => {
  it('judges the store by its answers: a write landing onto the taken probe key ignored If-None-Match', () => {
    expect(judgeProbe({ first: 'written', second: 'refused', complete: 'refused' })).to.deep.equal({
      put: true,
      complete: true,
    });
    expect(judgeProbe({ first: 'written', second: 'refused', complete: 'written' })).to.deep.equal({
      put: true,
      complete: false,
    });
    expect(judgeProbe({ first: 'written', second: 'written', complete: 'written' })).to.deep.equal({
      put: false,
      complete: false,
    });
    expect(judgeProbe({ first: 'written', second: 'unsupported', complete: 'unsupported' })).to.deep.equal({
      put: false,
      complete: false,
    });
    expect(judgeProbe({ first: 'unsupported' })).to.deep.equal({ put: false, complete: false });
    // An earlier (killed) probe's object held the key: only a store that honours If-None-Match refuses.
    expect(judgeProbe({ first: 'refused', complete: 'refused' })).to.deep.equal({ put: true, complete: true });
  });

  it('probes a custom endpoint unless a fresh probe answers; trusts AWS and --conditional-writes no', () => {
    const honoured = { writes: { put: true, complete: true } };
    const putOnly = { writes: { put: true, complete: false } };
    expect(choose('auto', ENDPOINT, false, undefined)).to.deep.equal({ probe: 'conditional' });
    expect(choose('auto', ENDPOINT, false, putOnly)).to.deep.equal({ writes: putOnly.writes });
    expect(choose('auto', undefined, false, undefined)).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('auto', undefined, true, undefined)).to.deep.equal({
      probe: 'settings',
      writes: { put: true, complete: true },
    });
    expect(choose('auto', undefined, true, {})).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('no', ENDPOINT, false, undefined)).to.deep.equal({ writes: { put: false, complete: false } });
    expect(choose('yes', undefined, false, undefined)).to.deep.equal({ writes: { put: true, complete: true } });
    // A promise on a custom endpoint is verified, and a probe that found less is asked again.
    expect(choose('yes', ENDPOINT, false, undefined)).to.deep.equal({ probe: 'conditional' });
    expect(choose('yes', ENDPOINT, false, honoured)).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('yes', ENDPOINT, false, putOnly)).to.deep.equal({ probe: 'conditional' });
    expect(choose('put-only', ENDPOINT, false, putOnly)).to.deep.equal({ writes: { put: true, complete: false } });
    expect(choose('put-only', ENDPOINT, false, { writes: { put: false, complete: false } })).to.deep.equal({
      probe: 'conditional',
    });
  });

  it('a store doing less than --conditional-writes said is a configuration error naming the option and what to say instead', () => {
    const none = { put: false, complete: false };
    const putOnly = { put: true, complete: false };
    expect(contradiction('yes', none, ENDPOINT, 'k')?.message).to.match(
      /^--conditional-writes yes: .* on PutObject .*use --conditional-writes no or auto/,
    );
    expect(contradiction('yes', putOnly, ENDPOINT, 'k')?.message).to.match(
      /^--conditional-writes yes: .* on CompleteMultipartUpload .*use --conditional-writes put-only or auto/,
    );
    expect(contradiction('put-only', none, ENDPOINT, 'k')?.message).to.match(
      /^--conditional-writes put-only: .* on PutObject/,
    );
    expect(contradiction('put-only', putOnly, ENDPOINT, 'k')).to.equal(null);
    expect(contradiction('auto', none, ENDPOINT, 'k')).to.equal(null);
  });

  it('one probe key per host and archive folder, under the template folder', () => {
    const a = probeKey('logs/', { hostname: 'web1', archiveDir: '/var/log/hourly/archive' });
    expect(a).to.match(/^logs\/\.logjam-probe\/web1-[0-9a-f]{8}$/);
    expect(probeKey('logs/', { hostname: 'web1', archiveDir: '/var/log/hourly/archive' })).to.equal(a);
    expect(probeKey('logs/', { hostname: 'web1', archiveDir: '/srv/app/archive' })).not.to.equal(a);
    expect(probeKey('', { hostname: 'a b/c', archiveDir: '/x/archive' })).to.match(/^\.logjam-probe\/a_b_c-/);
  });
});

describe('learnConditionalWrites (a stubbed client)', () => {
  before(loadSdk);

  const prober = { hostname: 'web1', archiveDir: '/var/log/hourly/archive' };
  const learn = (client: S3Client, changes: Partial<LearnSettings> = {}) =>
    learnConditionalWrites({
      client,
      bucket: 'logs',
      endpoint: ENDPOINT,
      mode: 'auto',
      probePrefix: 'app/',
      prober,
      log: keptLogger().log,
      ...changes,
    });

  /** A store as Ceph RGW 16: If-None-Match honoured on PutObject (the probe's second PUT is refused), ignored on Complete. */
  function putOnlyStore(): Answer {
    let written = false;
    return (name, input) => {
      if (name === 'PutObject') {
        if (written && input.IfNoneMatch === '*') throw s3Error('PreconditionFailed', 412);
        written = true;
        return {};
      }
      if (name === 'ListMultipartUploads') return { Uploads: [] };
      if (name === 'CreateMultipartUpload') return { UploadId: 'u1' };
      if (name === 'UploadPart') return { ETag: '"e1"' };
      return {};
    };
  }

  it('sends nothing for AWS (no endpoint) or --conditional-writes no: the writes are given', async () => {
    const { client, sent } = fakeClient(() => ({}));
    expect(await learn(client, { endpoint: undefined })).to.deep.equal({ writes: { put: true, complete: true } });
    expect(await learn(client, { mode: 'no' })).to.deep.equal({ writes: { put: false, complete: false } });
    expect(sent).to.deep.equal([]);
  });

  it('probes a custom endpoint at auto under its one probe key, finds what the store honours, and deletes the probe object last', async () => {
    const { client, sent, names } = fakeClient(putOnlyStore());
    const learned = await learn(client);
    expect(learned.writes).to.deep.equal({ put: true, complete: false });
    expect(learned.probe).to.deep.equal({ key: probeKey('app/', prober), found: { put: true, complete: false } });
    // A killed probe's upload cleared first; then the second PUT and the multipart upload, sent together.
    expect(names()).to.deep.equal([
      'PutObject',
      'ListMultipartUploads',
      'PutObject',
      'CreateMultipartUpload',
      'UploadPart',
      'CompleteMultipartUpload',
      'DeleteObject',
    ]);
    expect(sent.every((s) => s.input.Key === probeKey('app/', prober) || s.name === 'ListMultipartUploads')).to.equal(
      true,
    );
    expect(sent.find((s) => s.name === 'CompleteMultipartUpload')?.input.IfNoneMatch).to.equal('*');
  });

  it('--conditional-writes yes that the store does not keep is a configuration error, and the probe object is still deleted', async () => {
    const { client, names } = fakeClient(putOnlyStore());
    let thrown: unknown;
    await learn(client, { mode: 'yes' }).catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(ConfigError);
    expect((thrown as Error).message).to.match(
      /^--conditional-writes yes: .*ignores If-None-Match on CompleteMultipartUpload/,
    );
    expect(names().at(-1)).to.equal('DeleteObject');
  });

  it('a probe refused (403) proves nothing: HEAD before each write, nothing to delete, asked again next run', async () => {
    const { client, names } = fakeClient(() => {
      throw s3Error('AccessDenied', 403);
    });
    const learned = await learn(client, { mode: 'yes' });
    expect(learned).to.deep.equal({
      writes: { put: false, complete: false },
      probe: { key: probeKey('app/', prober), found: null },
    });
    expect(names()).to.deep.equal(['PutObject']);
  });

  it('object settings the store refuses (400) are a configuration error naming them, checked even where the writes need no proof', async () => {
    const { client, sent } = fakeClient((name) => {
      if (name === 'PutObject') throw s3Error('InvalidStorageClass', 400);
      return {};
    });
    let thrown: unknown;
    await learn(client, { endpoint: undefined, storageClass: 'GLACIER_IR' }).catch(
      (error: unknown) => (thrown = error),
    );
    expect(thrown).to.be.instanceOf(ConfigError);
    expect((thrown as Error).message).to.equal(
      'the store refused --storage-class GLACIER_IR (InvalidStorageClass); leave the option out, or choose a value the store offers',
    );
    expect(sent[0]?.input).to.include({ StorageClass: 'GLACIER_IR' }).and.not.have.property('IfNoneMatch');
  });

  it('settingsRefused: only a 400 to a write that carried settings is theirs', () => {
    const settings = { sse: 'aws:kms', sseKmsKeyId: 'k1' };
    expect(settingsRefused(s3Error('InvalidArgument', 400), settings)?.message).to.match(
      /^the store refused --sse aws:kms --sse-kms-key-id k1 \(InvalidArgument\)/,
    );
    expect(settingsRefused(s3Error('InvalidArgument', 400), {})).to.equal(null);
    expect(settingsRefused(s3Error('AccessDenied', 403), settings)).to.equal(null);
  });
});
