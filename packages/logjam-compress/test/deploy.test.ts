// The deployment files are part of the product: check that they are well formed.
import { expect } from 'chai';
import { promises as fs, constants } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../../test/support/index.js';

const read = (file: string) => fs.readFile(path.join(repoRoot, file), 'utf8');

describe('logjam-compress deployment files', () => {
  it('cron.d/logjam: every entry has five time fields, then the user, and runs logjam-compress --once', async () => {
    const entries = (await read('cron.d/logjam'))
      .split('\n')
      .map((line) => line.trim())
      // Comments, blank lines and VARIABLE=value lines are not entries.
      .filter((line) => line && !line.startsWith('#') && !/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line));
    expect(entries).to.not.be.empty;
    for (const entry of entries) {
      const fields = entry.split(/\s+/);
      for (const time of fields.slice(0, 5)) expect(time, entry).to.match(/^[\d*,/-]+$/);
      expect(fields[5], `user in: ${entry}`).to.match(/^[a-z_][a-z0-9_-]*$/);
      expect(fields[6], `command in: ${entry}`).to.match(/^logjam-/);
    }
    const compress = entries.filter((entry) => entry.split(/\s+/)[6] === 'logjam-compress');
    expect(compress).to.have.length(1);
    expect(compress[0]).to.include('--once');
    expect((await read('cron.d/logjam')).endsWith('\n'), 'cron ignores a last line without a newline').to.equal(true);
  });

  it('runit: run scripts are executable and exec the service in the foreground, stderr to svlogd', async () => {
    const run = await read('runit/logjam-compress/run');
    const log = await read('runit/logjam-compress/log/run');
    for (const file of ['runit/logjam-compress/run', 'runit/logjam-compress/log/run']) {
      await fs.access(path.join(repoRoot, file), constants.X_OK);
    }
    expect(run).to.match(/^#!\/bin\/sh\n/);
    expect(run).to.match(/^exec 2>&1$/m);
    expect(run).to.match(/^exec logjam-compress (?!.*--once)\S+/m);
    expect(log).to.match(/^exec svlogd /m);
  });

  it('upstart and systemd run the service in the foreground', async () => {
    expect(await read('upstart/logjam-compress.conf')).to.match(/^exec logjam-compress (?!.*--once)\S+/m);
    const unit = await read('systemd/logjam-compress.service');
    expect(unit).to.match(/^ExecStart=\/\S*logjam-compress (?!.*--once)\S+/m);
    expect(unit).to.match(/^\[Install\]$/m);
  });
});
