// --profile: one binary under node --cpu-prof, and its top self-time functions.
import path from 'node:path';
import { corpusHourly, corpusUploadSmall } from '../lib/corpora.mjs';
import { CLI, OUT, ROOT, WORK } from '../lib/paths.mjs';
import { summarizeProfiles } from '../lib/profile.mjs';
import { copyFresh, f, linkFresh, mkdir } from '../lib/util.mjs';

/** @param {import('../lib/context.mjs').Bench} bench @param {'compress' | 'upload'} which */
export async function profile(bench, which) {
  const { opt, size, tools } = bench;
  const dir = path.join(OUT, 'profile', `${which}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdir(dir);
  if (which === 'compress') {
    if (!tools.logjamCompress) throw new Error('logjam-compress is not built');
    const files = await corpusHourly(size.hourlyMB);
    const work = path.join(WORK, 'profile');
    copyFresh(files, work);
    const x = await bench.proc.run('profile-compress', process.execPath, [
      '--cpu-prof',
      '--cpu-prof-dir',
      dir,
      CLI.compress,
      '--once',
      '--level',
      '6',
      '--jobs',
      String(opt.jobs),
      work,
    ]);
    console.log(
      `logjam-compress --once on 24 × ${size.hourlyMB} MB: ${f(x.wall, 2)} s wall, ${f(x.cpu, 2)} s CPU, exit ${x.code}`,
    );
  } else {
    if (!tools.logjamUpload) throw new Error('logjam-upload is not built');
    const s3 = await bench.s3.start();
    const src = await corpusUploadSmall(size.small);
    const work = path.join(WORK, 'profile', 'archive');
    linkFresh(src, work);
    await s3.freshBucket('profile');
    const x = await bench.proc.run(
      'profile-upload',
      process.execPath,
      [
        '--cpu-prof',
        '--cpu-prof-dir',
        dir,
        CLI.upload,
        '--once',
        ...s3.logjamArgs(work, 'profile'),
        '--jobs',
        String(opt.uploadJobs),
      ],
      { env: s3.env() },
    );
    console.log(
      `logjam-upload --once on ${size.small} small archives: ${f(x.wall, 2)} s wall, ${f(x.cpu, 2)} s CPU, exit ${x.code}, ${s3.count('profile')} objects`,
    );
  }
  console.log(summarizeProfiles(dir, ROOT, 25));
  console.log(
    `\nProfiles: ${path.relative(ROOT, dir)}/*.cpuprofile (open in Chrome DevTools > Performance, or speedscope).`,
  );
}
