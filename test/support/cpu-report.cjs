// Preloaded (node --require) into each simulated host of the fleet
// simulation: at exit, appends the process's CPU seconds (user + system, all
// threads) to the file in LOGJAM_CPU_REPORT, one number a line.
const fs = require('node:fs');
const file = process.env.LOGJAM_CPU_REPORT;
if (file) {
  process.on('exit', () => {
    const usage = process.cpuUsage();
    fs.appendFileSync(file, `${(usage.user + usage.system) / 1e6}\n`);
  });
}
