// Process warnings go through our logger instead of Node's default printer.
// Two come on every run and say nothing an operator can act on, and cron
// mails every stderr line: they are kept at debug level. On Node 20 the AWS
// SDK emits a NodeVersionSupportWarning; the executable's loader of its SDK
// asset uses vm's USE_MAIN_CONTEXT_DEFAULT_LOADER, an ExperimentalWarning.

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

/** A warning of every run that needs nothing from the operator (above). */
export function isRoutineWarning(warning: Error): boolean {
  if (warning.name === 'NodeVersionSupportWarning' || warning.message.includes('NodeVersionSupportWarning'))
    return true;
  return warning.name === 'ExperimentalWarning' && warning.message.startsWith('vm.USE_MAIN_CONTEXT_DEFAULT_LOADER ');
}
