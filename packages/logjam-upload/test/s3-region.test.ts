// The region order: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile,
// the instance's region from instance metadata, us-east-1.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@logjam/core';
import { cleanupTmpDirs, tmpDir } from '../../../test/support/index.ts';
import { closedEndpoint, startFakeImds, type FakeImds } from '../../../test/support/imds.ts';
import { chooseEndpoint, resolveRegion } from '../src/s3.ts';

const log = createLogger({ name: 'test', level: 'error', write: () => {} });

describe('region and endpoint resolution', () => {
  let imds: FakeImds;
  const saved = { ...process.env };
  let noFile: string;

  before(async () => {
    imds = await startFakeImds({ region: 'ap-southeast-2' });
  });
  beforeEach(async () => {
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    noFile = path.join(await tmpDir(), 'none');
    process.env.AWS_CONFIG_FILE = noFile;
    process.env.AWS_SHARED_CREDENTIALS_FILE = noFile;
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.endpoint;
    imds.requests.length = 0;
  });
  afterEach(cleanupTmpDirs);
  after(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    await imds.close();
  });

  it('takes --region first, then AWS_REGION, then AWS_DEFAULT_REGION, asking no metadata', async () => {
    const env = { ...process.env, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-2' };
    expect(await resolveRegion('eu-central-1', env, log)).to.deep.equal({ region: 'eu-central-1', source: '--region' });
    expect(await resolveRegion(undefined, env, log)).to.deep.equal({ region: 'eu-west-1', source: 'AWS_REGION' });
    expect(await resolveRegion(undefined, { ...env, AWS_REGION: undefined }, log)).to.deep.equal({
      region: 'eu-west-2',
      source: 'AWS_DEFAULT_REGION',
    });
    expect(imds.requests).to.deep.equal([]);
  });

  it("then the profile's region", async () => {
    const config = path.join(await tmpDir(), 'config');
    await fs.writeFile(config, '[default]\nregion = sa-east-1\n');
    process.env.AWS_CONFIG_FILE = config;
    expect(await resolveRegion(undefined, process.env, log)).to.deep.equal({
      region: 'sa-east-1',
      source: 'profile default',
    });
    expect(imds.requests).to.deep.equal([]);
  });

  it("then the instance's own region from instance metadata (IMDSv2)", async () => {
    expect(await resolveRegion(undefined, process.env, log)).to.deep.equal({
      region: 'ap-southeast-2',
      source: 'instance metadata',
    });
    expect(imds.requests.map((r) => `${r.method} ${r.path}`)).to.include.members([
      'PUT /latest/api/token',
      'GET /latest/meta-data/placement/region',
    ]);
    expect(imds.requests.find((r) => r.path === '/latest/meta-data/placement/region')?.token).to.equal(true);
  });

  it('then us-east-1: off EC2, or with AWS_EC2_METADATA_DISABLED', async () => {
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = await closedEndpoint();
    expect(await resolveRegion(undefined, process.env, log)).to.deep.equal({ region: 'us-east-1', source: 'default' });
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = imds.endpoint;
    expect(await resolveRegion(undefined, { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' }, log)).to.deep.equal({
      region: 'us-east-1',
      source: 'default',
    });
    expect(imds.requests).to.deep.equal([]);
  });

  it('takes --endpoint-url, then AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL', () => {
    expect(
      chooseEndpoint('http://a:1', { AWS_ENDPOINT_URL_S3: 'http://b:2', AWS_ENDPOINT_URL: 'http://c:3' }),
    ).to.equal('http://a:1');
    expect(chooseEndpoint(undefined, { AWS_ENDPOINT_URL_S3: 'http://b:2', AWS_ENDPOINT_URL: 'http://c:3' })).to.equal(
      'http://b:2',
    );
    expect(chooseEndpoint(undefined, { AWS_ENDPOINT_URL: 'http://c:3' })).to.equal('http://c:3');
    expect(
      chooseEndpoint(undefined, { AWS_ENDPOINT_URL: 'http://c:3', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }),
    ).to.equal(undefined);
    expect(chooseEndpoint(undefined, {})).to.equal(undefined);
  });
});
