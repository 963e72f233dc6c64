import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { formatMetrics, parseSamples, writeMetricsFile, type Metric } from '../src/metrics.ts';
import { cleanupTmpDirs, tmpDir } from '../../../test/support/index.ts';

describe('Prometheus textfile metrics', () => {
  afterEach(cleanupTmpDirs);

  const metrics = (files: number, backlog: number): Metric[] => [
    {
      name: 'logjam_compress_files_total',
      help: 'Files compressed.',
      type: 'counter',
      samples: [{ labels: { dir: '/var/log/a "b"' }, value: files }],
    },
    {
      name: 'logjam_compress_backlog_files',
      help: 'Files due and not yet compressed.',
      type: 'gauge',
      samples: [{ value: backlog }],
    },
  ];

  it('formats HELP, TYPE and escaped labels', () => {
    expect(formatMetrics(metrics(3, 1))).to.equal(
      [
        '# HELP logjam_compress_files_total Files compressed.',
        '# TYPE logjam_compress_files_total counter',
        'logjam_compress_files_total{dir="/var/log/a \\"b\\""} 3',
        '# HELP logjam_compress_backlog_files Files due and not yet compressed.',
        '# TYPE logjam_compress_backlog_files gauge',
        'logjam_compress_backlog_files 1',
        '',
      ].join('\n'),
    );
  });

  it('carries counters over from the previous file, but not gauges', async () => {
    const file = path.join(await tmpDir(), 'logjam.prom');
    await writeMetricsFile(file, metrics(3, 5));
    await writeMetricsFile(file, metrics(2, 1));
    const samples = parseSamples(await fs.readFile(file, 'utf8'));
    expect(samples.get('logjam_compress_files_total{dir="/var/log/a \\"b\\""}')).to.equal(5);
    expect(samples.get('logjam_compress_backlog_files')).to.equal(1);
    expect(await fs.readdir(path.dirname(file))).to.deep.equal(['logjam.prom']);
  });
});
