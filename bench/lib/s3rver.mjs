// Runs s3rver on 127.0.0.1 at a free port in its own process (so its CPU is
// not the harness's), with no bucket (each run creates its own); prints
// {"port":N} on stdout.
import S3rver from 's3rver';

const directory = process.argv[2];
if (!directory) throw new Error('usage: s3rver.mjs DIRECTORY');
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
});
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
