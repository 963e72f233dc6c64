// systemd's own checks of a unit file, run on a root that holds what a package installs.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The host's own units (sysinit.target and the like), which verify needs to find under --root. */
const HOST_UNITS = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((dir) =>
  existsSync(path.join(dir, 'sysinit.target')),
);
/** Whether `systemd-analyze` (Debian's systemd package) and the host's units are here. */
export const canVerifyUnits = !spawnSync('systemd-analyze', ['--version']).error && HOST_UNITS !== undefined;

/** The diagnostics of `systemd-analyze verify --root=ROOT UNIT`, one per line (it exits 1 on any); `unit` must be under `root`. */
export async function verifyUnit(root: string, unit: string): Promise<string[]> {
  const target = path.join(root, 'usr/lib/systemd/system');
  if (!existsSync(path.join(target, 'sysinit.target')))
    await fs.cp(HOST_UNITS!, target, { recursive: true, verbatimSymlinks: true });
  const result = await run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, unit], {
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
  }).then(
    (r) => r.stdout + r.stderr,
    (error: { stdout?: string; stderr?: string }) => (error.stdout ?? '') + (error.stderr ?? ''),
  );
  return result.split('\n').filter(Boolean);
}
