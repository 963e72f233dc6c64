// 2. Peak memory (RSS) at two input sizes: flat means it does not grow with the file.
import path from 'node:path';
import { corpusBigLog, corpusUploadRandom } from '../lib/corpora.mjs';
import { detectForms } from '../lib/forms.mjs';
import { WORK } from '../lib/paths.mjs';
import { copyFresh, f, linkFresh, listFiles } from '../lib/util.mjs';

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
  // logjam in each form it is installed in (the npm install on each Node, the executable): their heaps differ.
  const { forms, notes } = detectForms();
  /** @param {import('../lib/forms.mjs').Form} form */
  const formNote = (form) => (form === forms[0] ? '' : ` (${form.name})`);
  if (tools.logjamCompress) {
    for (const mb of size.memMB) {
      const files = await corpusBigLog(mb, mb === size.bigMB ? 5 : 9);
      for (const form of forms) {
        const dir = path.join(WORK, 'memory');
        copyFresh(files, dir);
        const [cmd, args] = form.command('compress');
        const x = await bench.proc.run(
          `memory-compress-${mb}`,
          cmd,
          [...args, '--once', '--level', '6', '--jobs', String(opt.jobs), dir],
          { env: form.env },
        );
        rows.push(
          `| logjam-compress --once${formNote(form)} | ${mb} MB log | ${x.code === 0 ? f(x.rss, 0) : 'failed'} | ${f(x.wall, 2)} |`,
        );
        report.target(
          `memory: logjam-compress${formNote(form)} peak RSS on ${mb} MB, MB`,
          '< 150',
          x.code === 0 ? x.rss : NaN,
          x.rss < 150,
          0,
        );
      }
    }
  } else rows.push(`| logjam-compress | – | not built | |`);
  const s3 = await bench.s3.start();
  /** @type {[string, UploadCommand][]} */
  const upTools = [];
  if (tools.logjamUpload)
    for (const form of forms) {
      const [cmd, args] = form.command('upload');
      upTools.push([
        `logjam-upload --once${formNote(form)}`,
        (dir, p) => [
          cmd,
          [...args, '--once', ...s3.logjamArgs(dir, p), '--jobs', String(opt.uploadJobs)],
          { ...s3.env(), ...form.env },
        ],
      ]);
    }
  else rows.push(`| logjam-upload | – | not built | |`);
  if (tools.rclone)
    upTools.push(['rclone copy', (dir, p) => ['rclone', ['copy', dir, `s3bench:${p}/${p}`], s3.rcloneEnv()]]);
  const aws = tools.aws;
  if (aws)
    upTools.push([
      'aws s3 cp --recursive',
      (dir, p) => [
        aws.cmd,
        ['s3', 'cp', '--recursive', '--only-show-errors', dir, `s3://${p}/${p}/`, '--endpoint-url', s3.url],
        s3.awsCliEnv(),
      ],
    ]);
  for (const mb of size.memMB) {
    const src = await corpusUploadRandom(`mem-up-${mb}mb`, 1, mb, 8);
    for (const [name, mk] of upTools) {
      const dir = path.join(WORK, 'memory-up', 'archive');
      // As root, logjam-upload refuses a file with a second name (a hard link): a copy then.
      if (process.getuid?.() === 0) copyFresh(listFiles(src), dir);
      else linkFresh(src, dir);
      const p = `mem-${name.split(' ')[0]}-${mb}-${upTools.findIndex(([n]) => n === name)}`;
      await s3.freshBucket(p);
      const [cmd, args, env] = mk(dir, p);
      const x = await bench.proc.run(`memory-upload-${p}`, cmd, args, { env });
      const good = x.code === 0 && s3.count(p) === 1;
      rows.push(`| ${name} | ${mb} MB archive | ${good ? f(x.rss, 0) : 'failed'} | ${f(x.wall, 2)} |`);
      if (name.startsWith('logjam'))
        report.target(
          `memory: ${name.replace(' --once', '')} peak RSS on ${mb} MB, MB`,
          '< 150',
          good ? x.rss : NaN,
          x.rss < 150,
          0,
        );
      s3.drop(p);
    }
  }
  report.emit(
    'memory',
    `One run each (RSS barely varies). Target for logjam: under 150 MB and flat from 100 MB to 1 GB${opt.full ? '' : ' (default run: 100 vs ' + size.bigMB + ' MB; `--full` for 1 GB)'}.\n`,
  );
  for (const note of notes) report.emit('memory', `_${note}_\n`);
  report.emit('memory', `| command | input | peak RSS MB | wall s |\n|---|---|---|---|\n${rows.join('\n')}\n`);
  return true;
}
