// The throttling front as a process of its own (for `npm run bench`, whose
// harness is plain JavaScript and must not share its CPU): the test proxy in
// front of an S3 server, throttling per key prefix as S3 does and honouring
// If-None-Match: *. Prints {"endpoint": ...} once listening; on SIGTERM prints
// its counts (ProxyStats) as one JSON line and exits.
//   node --import tsx test/support/front.ts TARGET_URL PER_SECOND [BURST]
import { startFaultProxy } from './proxy.ts';

const [target, perSecond, burst] = process.argv.slice(2);
if (!target || !perSecond) throw new Error('usage: front.ts TARGET_URL PER_SECOND [BURST]');
const front = await startFaultProxy({
  target,
  conditionalWrites: true,
  throttle: { perSecond: Number(perSecond), ...(burst ? { burst: Number(burst) } : {}) },
});
process.stdout.write(`${JSON.stringify({ endpoint: front.endpoint })}\n`);
process.on('SIGTERM', () => {
  const stats = front.stats;
  void front.close().then(() => process.stdout.write(`${JSON.stringify(stats)}\n`, () => process.exit(0)));
});
