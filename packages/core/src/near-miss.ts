// Names that look like hourly logs but are outside the grammar (logfile.ts):
// left alone, as the Python tool left them, but said and counted, so that a
// writer with the wrong stamp format is found before its logs pile up. Pure.
import { isIgnoredName, parseLogName } from './logfile.js';

const WANTED = 'the grammar is PREFIX-YYYYMMDDTHHMMZ[-SUFFIX].EXT';

/** What is wrong with `name`, when it looks like a dated log file (it holds a date) and does not parse as one; else undefined. */
export function nearMissReason(name: string): string | undefined {
  if (isIgnoredName(name) || parseLogName(name)) return undefined;
  // A calendar date, 19xx or 20xx, with or without dashes, not inside a longer number.
  const date = /(?<!\d)((?:19|20)\d\d)-?(0\d|1[0-2])-?([0-3]\d)/.exec(name);
  if (!date) return undefined;
  const rest = name.slice(date.index + date[0].length);
  const before = name.slice(0, date.index);
  if (/^T\d\d:?\d\d:?\d\dZ/.test(rest)) return `the stamp has seconds; ${WANTED}`;
  if (/^T\d\dZ/.test(rest)) return `the stamp has no minutes; ${WANTED}`;
  if (/^t\d\d:?\d\dz/i.test(rest) && !/^T\d\d:?\d\dZ/.test(rest))
    return `the stamp's T and Z must be capitals; ${WANTED}`;
  if (/^T\d\d:?\d\d(?!Z)/.test(rest)) return `the stamp has no Z (UTC); ${WANTED}`;
  if (/^\d{2,4}(?!\d)/.test(rest)) return `the stamp has no T and no Z; ${WANTED}`;
  if (/^T\d\d:?\d\dZ/.test(rest)) {
    if (!before.endsWith('-') || before.length < 2) return `nothing, or no dash, before the stamp; ${WANTED}`;
    if (!/^(?:-[^.]+)?\./.test(rest.slice(rest.indexOf('Z') + 1)))
      return `no extension (such as .log) after the stamp; ${WANTED}`;
    return `no such date or time; ${WANTED}`;
  }
  return undefined;
}
