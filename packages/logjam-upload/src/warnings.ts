// Process warnings go through our logger instead of Node's default printer.
// On Node 20 the AWS SDK emits a NodeVersionSupportWarning on every run, and
// cron mails every stderr line: that one is kept at debug level.

type Sink = (warning: Error) => void;
let sink: Sink | undefined;
const held: Error[] = [];

/** Replaces Node's warning printer; warnings wait until routeWarnings says where they go. */
export function installWarningFilter(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (sink) sink(warning);
    else held.push(warning);
  });
}

export function routeWarnings(to: Sink): void {
  sink = to;
  for (const warning of held.splice(0)) to(warning);
}

export function isNodeVersionWarning(warning: Error): boolean {
  return warning.name === 'NodeVersionSupportWarning' || warning.message.includes('NodeVersionSupportWarning');
}
