// 2. Peak memory (RSS) at two input sizes: flat means it does not grow with the file.
import path from 'node:path';
import { corpusBigLog, corpusUploadRandom } from '../lib/corpora.mjs';
import { CLI, WORK } from '../lib/paths.mjs';
import { copyFresh, f, linkFresh } from '../lib/util.mjs';

/** @typedef {(dir: string, p: string) => [string, string[], Record<string, string | undefined>]} UploadCommand */

/** @type {import('../lib/context.mjs').SectionFn} */
export async function benchMemory(bench) {
  const { opt, size, tools, report } = bench;
  report.emit('memory', `## 2. Peak memory (RSS) at two input sizes\n`);
  const rows = [];
  if (!tools.time) {
    report.emit('memory', `_/usr/bin/time missing: section skipped (Debian: \`apt-get install time\`)._\n`);
    return true;
  }
  if (tools.logjamCompress) {
    for (const mb of size.memMB) {
      const files = await corpusBigLog(mb, mb === size.bigMB ? 5 : 9);
      const dir = path.join(WORK, 'memory');
      copyFresh(files, dir);
      const x = await bench.proc.run(`memory-compress-${mb}`, process.execPath, [CLI.compress, '--once', '--level', '6', '--jobs', String(opt.jobs), dir]);
      rows.push(`| logjam-compress --once | ${mb} MB log | ${x.code === 0 ? f(x.rss, 0) : 'failed'} | ${f(x.wall, 2)} |`);
      report.target(`memory: logjam-compress peak RSS on ${mb} MB, MB`, '< 150', x.code === 0 ? x.rss : NaN, x.rss < 150, 0);
    }
  } else rows.push(`| logjam-compress | – | not built | |`);
  const s3 = await bench.s3.start();
  /** @type {[string, UploadCommand][]} */
  const upTools = [];
  if (tools.logjamUpload) upTools.push(['logjam-upload --once', (dir, p) => [process.execPath, [CLI.upload, '--once', ...s3.logjamArgs(dir, p), '--jobs', String(opt.uploadJobs)], s3.env()]]);
  else rows.push(`| logjam-upload | – | not built | |`);
  if (tools.rclone) upTools.push(['rclone copy', (dir, p) => ['rclone', ['copy', dir, `s3bench:${p}/${p}`], s3.rcloneEnv()]]);
  const aws = tools.aws;
  if (aws) upTools.push(['aws s3 cp --recursive', (dir, p) => [aws.cmd, ['s3', 'cp', '--recursive', '--only-show-errors', dir, `s3://${p}/${p}/`, '--endpoint-url', s3.url], s3.awsCliEnv()]]);
  for (const mb of size.memMB) {
    const src = await corpusUploadRandom(`mem-up-${mb}mb`, 1, mb, 8);
    for (const [name, mk] of upTools) {
      const dir = path.join(WORK, 'memory-up', 'archive');
      linkFresh(src, dir);
      const p = `mem-${name.split(' ')[0]}-${mb}`;
      await s3.freshBucket(p);
      const [cmd, args, env] = mk(dir, p);
      const x = await bench.proc.run(`memory-upload-${p}`, cmd, args, { env });
      const good = x.code === 0 && s3.count(p) === 1;
      rows.push(`| ${name} | ${mb} MB archive | ${good ? f(x.rss, 0) : 'failed'} | ${f(x.wall, 2)} |`);
      if (name.startsWith('logjam')) report.target(`memory: logjam-upload peak RSS on ${mb} MB, MB`, '< 150', good ? x.rss : NaN, x.rss < 150, 0);
      s3.drop(p);
    }
  }
  report.emit(
    'memory',
    `One run each (RSS barely varies). Target for logjam: under 150 MB and flat from 100 MB to 1 GB${opt.full ? '' : ' (default run: 100 vs ' + size.bigMB + ' MB; `--full` for 1 GB)'}.\n`,
  );
  report.emit('memory', `| command | input | peak RSS MB | wall s |\n|---|---|---|---|\n${rows.join('\n')}\n`);
  return true;
}
