// Error reporting to Sentry, as the Python tool did, when SENTRY_DSN is set.
// Without it, @sentry/node is never imported: nothing to load at start-up.
import type { Logger } from './log.js';
import { displayName } from './rawname.js';
import { showPaths } from './shown-paths.js';

export interface ErrorReporter {
  /** Reports an error that failed a file or a pass, with tags such as the directory and the file. */
  capture(error: unknown, tags?: Record<string, string | undefined>): void;
  /** Sends what is queued; call before exiting. */
  flush(): Promise<void>;
}

const noReporter: ErrorReporter = { capture() {}, flush: async () => {} };

export async function createErrorReporter(options: {
  binary: string;
  version: string;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}): Promise<ErrorReporter> {
  const dsn = (options.env ?? process.env).SENTRY_DSN;
  if (!dsn) return noReporter;
  let Sentry: typeof import('@sentry/node');
  try {
    Sentry = await import('@sentry/node');
    Sentry.init({
      dsn,
      release: `${options.binary}@${options.version}`,
      // No tracing, no OpenTelemetry, no global handlers: we report the errors we see, nothing else.
      defaultIntegrations: false,
      enableOpenTelemetrySetup: false,
      tracesSampleRate: 0,
      initialScope: { tags: { binary: options.binary } },
    });
  } catch (error) {
    options.log.warn('SENTRY_DSN is set but Sentry could not start; errors are only logged', { error: String(error) });
    return noReporter;
  }
  return {
    capture(error, tags = {}) {
      Sentry.withScope((scope) => {
        // A file name that is not UTF-8 is tagged as logged: its odd bytes as %XX.
        for (const [key, value] of Object.entries(tags))
          if (value !== undefined) scope.setTag(key, showPaths(displayName(value)));
        Sentry.captureException(error instanceof Error ? error : new Error(String(error)));
      });
    },
    async flush() {
      await Sentry.flush(5000);
    },
  };
}
