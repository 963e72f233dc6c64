import { expect } from 'chai';
import { parseLogName, UsageError } from '@logjam/core';
import { conflictName, conflictValues, fieldValues, parseTemplate, renderKey, renderUri } from '../src/template.ts';

const log = (name: string) => {
  const parsed = parseLogName(name);
  if (!parsed) throw new Error(`not a log name: ${name}`);
  return parsed;
};

describe('template', () => {
  describe('rendering', () => {
    it('fills every field from the name and the short host name', () => {
      const t = parseTemplate('s3://my-log-bucket/{hostname}/{prefix}/{year}/{month}/{day}/{hour}{minute}/{suffix}/{extension}/{filename}');
      expect(t.bucket).to.equal('my-log-bucket');
      const values = fieldValues(log('haproxy-20130704T0905Z-us-west-2-i-ae23fega.log.gz'), 'web1.example.com');
      expect(renderKey(t, values)).to.equal('web1/haproxy/2013/07/04/0905/us-west-2-i-ae23fega/.log.gz/haproxy-20130704T0905Z-us-west-2-i-ae23fega.log.gz');
    });

    it('uses the UTC stamp of the name, dashed or compact, and an empty suffix when there is none', () => {
      const t = parseTemplate('s3://b/{prefix}/{year}-{month}-{day}T{hour}:{minute}/[{suffix}]/{filename}');
      expect(renderUri(t, fieldValues(log('app-2013-12-31T23:59Z.log.gz'), 'h'))).to.equal('s3://b/app/2013-12-31T23:59/[]/app-2013-12-31T23:59Z.log.gz');
    });

    it('renders the Python README sample once its stray brace is fixed', () => {
      const t = parseTemplate('s3://YOUR_BUCKET/{prefix}/{year}/{month}/{day}/{filename}');
      expect(renderUri(t, fieldValues(log('haproxy-20130704T0000Z-us-west-2-i-ae23fega.log.gz'), 'h'))).to.equal(
        's3://YOUR_BUCKET/haproxy/2013/07/04/haproxy-20130704T0000Z-us-west-2-i-ae23fega.log.gz',
      );
    });

    it('names conflicts PREFIX-logjam-upload-conflict-NN-STAMP[-SUFFIX]EXT', () => {
      expect(conflictName(log('app-20240105T1300Z-web1.log.gz'), 1)).to.equal('app-logjam-upload-conflict-01-20240105T1300Z-web1.log.gz');
      expect(conflictName(log('app-2024-01-05T13:00Z.log.gz'), 12)).to.equal('app-logjam-upload-conflict-12-20240105T1300Z.log.gz');
      const t = parseTemplate('s3://b/{prefix}/{year}{month}{day}/{filename}');
      expect(renderKey(t, conflictValues(log('app-20240105T1300Z.log.gz'), 'h', 2))).to.equal('app/20240105/app-logjam-upload-conflict-02-20240105T1300Z.log.gz');
      expect(() => conflictName(log('app-20240105T1300Z.log.gz'), 100)).to.throw(RangeError);
    });

    it('refuses a key longer than S3 allows', () => {
      const t = parseTemplate(`s3://b/${'x'.repeat(1000)}/{prefix}/{year}/{month}/{day}/{filename}`);
      expect(() => renderKey(t, fieldValues(log('app-20240105T1300Z.log.gz'), 'h'))).to.throw(/longer than 1024/);
    });
  });

  describe('errors (usage errors, exit 2)', () => {
    const bad: Array<[string, RegExp]> = [
      ['s3://YOUR_BUCKET/{prefix}/{year}/{month}{/{day}/{filename}', /unbalanced '\{' at character 41/],
      ['s3://b/{prefix}/{year}/{month}/{day}/{filename}}', /unbalanced '\}'/],
      ['s3://b/{prefix}/{year}/{month}/{day}/{filename', /unbalanced '\{'.*never closed/],
      ['s3://b/{prefix}/{year}/{month}/{day}/{filename}/{host}', /unknown field '\{host\}'/],
      ['s3://b/{prefix}/{year}/{month}/{day}', /missing mandatory field \{filename\}/],
      ['s3://b/{filename}', /missing mandatory fields \{prefix\}, \{year\}, \{month\}, \{day\}/],
      ['s3:///{prefix}/{year}/{month}/{day}/{filename}', /bucket name is empty/],
      ['s3://', /bucket name is empty/],
      ['s3://bucket', /key template .* is empty/],
      ['s3://bucket/', /key template .* is empty/],
      ['s3://{prefix}/{year}/{month}/{day}/{filename}', /bucket name .* cannot hold fields/],
      ['http://b/{prefix}/{year}/{month}/{day}/{filename}', /scheme must be 's3:\/\/'/],
      ['gs://b/{prefix}/{year}/{month}/{day}/{filename}', /scheme must be 's3:\/\/'/],
      ['b/{prefix}/{year}/{month}/{day}/{filename}', /must start with 's3:\/\/'/],
      ['s3://my bucket/{prefix}/{year}/{month}/{day}/{filename}', /not a valid bucket name/],
      ['s3://b/{}/{prefix}/{year}/{month}/{day}/{filename}', /unknown field '\{\}'/],
    ];
    for (const [template, message] of bad) {
      it(`rejects ${template}`, () => {
        let caught: unknown;
        try {
          parseTemplate(template);
        } catch (error) {
          caught = error;
        }
        expect(caught, 'no error').to.be.instanceOf(UsageError);
        expect((caught as Error).message).to.match(message);
        expect((caught as Error).message).to.include(template);
      });
    }
  });
});
