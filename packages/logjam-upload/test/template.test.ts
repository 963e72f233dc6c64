import { expect } from 'chai';
import { parseLogName, UsageError } from '@logjam/core';
import { readFileSync } from 'node:fs';
import { bytesToDisplay, nameFromBytes } from '@logjam/core';
import {
  conflictName,
  conflictValues,
  fieldValues,
  parseTemplate,
  renderBucket,
  renderKey,
  renderUri,
} from '../src/template.ts';

const log = (name: string) => {
  const parsed = parseLogName(name);
  if (!parsed) throw new Error(`not a log name: ${name}`);
  return parsed;
};

describe('template', () => {
  describe('rendering', () => {
    it('fills every field from the name and the short host name', () => {
      const t = parseTemplate(
        's3://my-log-bucket/{hostname}/{prefix}/{year}/{month}/{day}/{hour}{minute}/{suffix}/{extension}/{filename}',
      );
      const values = fieldValues(log('haproxy-20130704T0905Z-us-west-2-i-ae23fega.log.gz'), 'web1.example.com');
      expect(renderBucket(t, values)).to.equal('my-log-bucket');
      expect(renderKey(t, values)).to.equal(
        'web1/haproxy/2013/07/04/0905/us-west-2-i-ae23fega/.log.gz/haproxy-20130704T0905Z-us-west-2-i-ae23fega.log.gz',
      );
    });

    it('uses the UTC stamp of the name, dashed or compact, and an empty suffix when there is none', () => {
      const t = parseTemplate('s3://logs/{prefix}/{year}-{month}-{day}T{hour}:{minute}/[{suffix}]/{filename}');
      expect(renderUri(t, fieldValues(log('app-2013-12-31T23:59Z.log.gz'), 'h'))).to.equal(
        's3://logs/app/2013-12-31T23:59/[]/app-2013-12-31T23:59Z.log.gz',
      );
    });

    it('renders the Python README sample once its stray brace is fixed', () => {
      const t = parseTemplate('s3://YOUR_BUCKET/{prefix}/{year}/{month}/{day}/{filename}');
      expect(renderUri(t, fieldValues(log('haproxy-20130704T0000Z-us-west-2-i-ae23fega.log.gz'), 'h'))).to.equal(
        's3://YOUR_BUCKET/haproxy/2013/07/04/haproxy-20130704T0000Z-us-west-2-i-ae23fega.log.gz',
      );
    });

    it('names conflicts PREFIX-logjam-upload-conflict-NN-STAMP[-SUFFIX]EXT', () => {
      expect(conflictName(log('app-20240105T1300Z-web1.log.gz'), 1)).to.equal(
        'app-logjam-upload-conflict-01-20240105T1300Z-web1.log.gz',
      );
      expect(conflictName(log('app-2024-01-05T13:00Z.log.gz'), 12)).to.equal(
        'app-logjam-upload-conflict-12-20240105T1300Z.log.gz',
      );
      const t = parseTemplate('s3://logs/{prefix}/{year}{month}{day}/{filename}');
      expect(renderKey(t, conflictValues(log('app-20240105T1300Z.log.gz'), 'h', 2))).to.equal(
        'app/20240105/app-logjam-upload-conflict-02-20240105T1300Z.log.gz',
      );
      expect(() => conflictName(log('app-20240105T1300Z.log.gz'), 100)).to.throw(RangeError);
    });

    it('refuses a key longer than S3 allows', () => {
      const t = parseTemplate(`s3://logs/${'x'.repeat(1000)}/{prefix}/{year}/{month}/{day}/{filename}`);
      expect(() => renderKey(t, fieldValues(log('app-20240105T1300Z.log.gz'), 'h'))).to.throw(/longer than 1024/);
    });
  });

  describe('errors (usage errors, exit 2)', () => {
    const bad: Array<[string, RegExp]> = [
      ['s3://YOUR_BUCKET/{prefix}/{year}/{month}{/{day}/{filename}', /unbalanced '\{' at character 41/],
      ['s3://logs/{prefix}/{year}/{month}/{day}/{filename}}', /unbalanced '\}'/],
      ['s3://logs/{prefix}/{year}/{month}/{day}/{filename', /unbalanced '\{'.*never closed/],
      ['s3://logs/{prefix}/{year}/{month}/{day}/{filename}/{host}', /unknown field '\{host\}'/],
      ['s3://logs/{prefix}/{year}/{month}/{day}', /missing mandatory field \{filename\}/],
      ['s3://logs/{filename}', /missing mandatory fields \{prefix\}, \{year\}, \{month\}, \{day\}/],
      ['s3:///{prefix}/{year}/{month}/{day}/{filename}', /bucket name is empty/],
      ['s3://', /bucket name is empty/],
      ['s3://bucket', /key template .* is empty/],
      ['s3://bucket/', /key template .* is empty/],
      ['http://b/{prefix}/{year}/{month}/{day}/{filename}', /scheme must be 's3:\/\/'/],
      ['gs://b/{prefix}/{year}/{month}/{day}/{filename}', /scheme must be 's3:\/\/'/],
      ['b/{prefix}/{year}/{month}/{day}/{filename}', /must start with 's3:\/\/'/],
      ['s3://my bucket/{prefix}/{year}/{month}/{day}/{filename}', /not a valid bucket name/],
      ['s3://b/{prefix}/{year}/{month}/{day}/{filename}', /'b' is not a valid bucket name/],
      ['s3://logs/{}/{prefix}/{year}/{month}/{day}/{filename}', /unknown field '\{\}'/],
      ['s3://logs/{prefix.upper}/{year}/{month}/{day}/{filename}', /attribute and index lookups are not supported/],
      ['s3://logs/{prefix:{month}}/{year}/{month}/{day}/{filename}', /fields inside a format spec are not supported/],
      ['s3://logs/{prefix!x}/{year}/{month}/{day}/{filename}', /conversion must be !s or !r/],
      ['s3://logs/{prefix:/>10}/{year}/{month}/{day}/{filename}', /renders a '\/'/],
      // Deliberately refused, where Python wrote such keys: they would leave the template's prefix.
      ['s3://logs//{prefix}/{year}/{month}/{day}/{filename}', /cannot start with '\/'/],
      ['s3://logs/{prefix}//{year}/{month}/{day}/{filename}', /cannot hold '\/\/'/],
      ['s3://logs/../{prefix}/{year}/{month}/{day}/{filename}', /'\.' or '\.\.' folder/],
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

  describe('as the Python tool rendered them (golden rows: test/python/template.py, logjam 0.0.4 and boto 2.49)', () => {
    interface Row {
      template: string;
      name: string;
      python:
        | { start: string }
        | { boto: string; uri: string }
        | { bucket: string; key: string; version_id: string | null; uri: string };
    }
    const rows = JSON.parse(readFileSync(new URL('./template.golden.json', import.meta.url), 'utf8')) as Row[];
    // Python's byte strings as logjam shows them: each byte that is not UTF-8 as %XX.
    const shown = (bytes: string) => bytesToDisplay(Buffer.from(bytes, 'latin1'));
    for (const row of rows) {
      const name = nameFromBytes(Buffer.from(row.name, 'latin1'));
      const python =
        'start' in row.python
          ? `stopped at start (${row.python.start})`
          : 'boto' in row.python
            ? `refused the bucket (${shown(row.python.boto)})`
            : `${shown(row.python.bucket)} ${JSON.stringify(shown(row.python.key))}${row.python.version_id ? ` (boto cut the key at '#')` : ''}`;
      it(`${row.template} for ${shown(row.name)}: Python ${python}`, () => {
        if ('start' in row.python) {
          expect(() => parseTemplate(row.template)).to.throw(UsageError);
          return;
        }
        const t = parseTemplate(row.template);
        const values = fieldValues(log(name), 'h');
        if ('boto' in row.python) {
          expect(() => renderBucket(t, values)).to.throw(/is not a valid bucket name/);
          return;
        }
        expect(renderBucket(t, values)).to.equal(shown(row.python.bucket));
        // logjam keeps a '#' in the key (a deliberate difference): boto read what followed it as a version id.
        const key = row.python.version_id === null ? row.python.key : `${row.python.key}#${row.python.version_id}`;
        expect(renderKey(t, values)).to.equal(shown(key));
      });
    }
  });
});
