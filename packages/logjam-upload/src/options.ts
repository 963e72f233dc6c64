// Parsing of the option values that are more than a word: durations, sizes, counts. Pure.
import { UsageError } from '@logjam/core';

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `7d`, `12h`, `30m`, `90s`, `2w` → milliseconds. */
export function parseDuration(option: string, text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} takes a duration such as 7d, 12h, 30m, 90s or 2w, not '${text}'`);
  return Number(m[1]) * DURATION_UNITS[m[2]!]!;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `8M`, `16MiB`, `5242880` → bytes (K, M, G are powers of 1024). */
export function parseSize(option: string, text: string): number {
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${option} takes a size such as 8M, 64M or 1G, not '${text}'`);
  return Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
}

export function parseInteger(option: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${option} takes a whole number from ${min} to ${max}, not '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${option} takes a whole number from ${min} to ${max}, not '${text}'`);
  return n;
}
