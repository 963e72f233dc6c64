// A progress line for long --once passes run by a person at a terminal: files
// and bytes done, rate and ETA. Never drawn when stderr is not a terminal
// (cron, runit, systemd), where the log lines must stand alone.

export interface Progress {
  /** Adds work discovered (files and bytes still to do). */
  addTotal(files: number, bytes: number): void;
  /** Counts one file done (or failed) and its bytes. */
  advance(bytes: number): void;
  /** Wraps a log writer so that log lines don't collide with the bar. */
  wrap(write: (line: string) => void): (line: string) => void;
  /** Erases the bar. */
  done(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** What the bytes are, e.g. `compressed`. */
  label: string;
  now?: () => number;
  /** Redraw at most this often. */
  everyMs?: number;
}

const noProgress: Progress = { addTotal() {}, advance() {}, wrap: (write) => write, done() {} };

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) return noProgress;
  const now = options.now ?? Date.now;
  const everyMs = options.everyMs ?? 200;
  const started = now();
  let totalFiles = 0;
  let totalBytes = 0;
  let doneFiles = 0;
  let doneBytes = 0;
  let shown = false;
  let lastDraw = 0;

  const render = (): string => {
    const elapsed = (now() - started) / 1000;
    const rate = elapsed > 0 ? doneBytes / elapsed : 0;
    const left = totalBytes - doneBytes;
    const eta = rate > 0 && left > 0 ? formatDuration(left / rate) : '--:--';
    const fraction = totalBytes > 0 ? doneBytes / totalBytes : totalFiles > 0 ? doneFiles / totalFiles : 0;
    const width = 24;
    const filled = Math.min(width, Math.round(fraction * width));
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    return `[${bar}] ${doneFiles}/${totalFiles} files ${mb(doneBytes)}/${mb(totalBytes)} MB ${options.label} ${mb(rate)} MB/s ETA ${eta}`;
  };
  const draw = (force = false) => {
    const t = now();
    if (!force && t - lastDraw < everyMs) return;
    lastDraw = t;
    const columns = stream.columns || 80;
    stream.write(`\r${render().slice(0, columns - 1)}\x1b[K`);
    shown = true;
  };
  const erase = () => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return {
    addTotal(files, bytes) {
      totalFiles += files;
      totalBytes += bytes;
      draw();
    },
    advance(bytes) {
      doneFiles += 1;
      doneBytes += bytes;
      draw(doneFiles === totalFiles);
    },
    wrap: (write) => (line) => {
      const wasShown = shown;
      erase();
      write(line);
      if (wasShown) draw(true);
    },
    done: erase,
  };
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
