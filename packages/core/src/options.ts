// The option values that are more than a word, parsed one way for both
// binaries: durations, sizes, whole numbers, choices. A bad value is a
// UsageError naming the option. Each parser is also a clipanion validator
// (`validator: isDuration('--max-age')`), so that an option is checked where it is declared. Pure.
import type { StrictValidator, ValidationState } from 'typanion';
import { UsageError } from './errors.js';

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90m`, `2h`, `7d`, `45s`, `2w`, or a number of seconds (`7200`, `0.5`) → milliseconds, at least `minMs` and at most `maxMs`. */
export function parseDuration(option: string, text: string, limits: { minMs?: number; maxMs?: number } = {}): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`${option} takes a duration such as 90m, 2h, 7d or a number of seconds, not '${text}'`);
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2] || 's']!);
  const { minMs = 0, maxMs = Infinity } = limits;
  if (ms < minMs || ms > maxMs) {
    const range = maxMs === Infinity ? `of at least ${minMs / 1000}s` : `from ${minMs / 1000}s to ${maxMs / 1000}s`;
    throw new UsageError(`${option} takes a duration ${range}, not '${text}'`);
  }
  return ms;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `8M`, `16MiB`, `5242880` → bytes (K, M, G are powers of 1024). */
export function parseSize(option: string, text: string): number {
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${option} takes a size such as 8M, 64M or 1G, not '${text}'`);
  return Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
}

/** A whole number from `min` to `max`. */
export function parseInteger(option: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= min && n <= max))
    throw new UsageError(`${option} takes a whole number from ${min} to ${max}, not '${text}'`);
  return n;
}

/** `a`, `a or b`, `a, b or c`. */
function either(values: readonly string[]): string {
  return values.length < 2 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/** One of `values`, as written. */
export function parseChoice<T extends string>(option: string, text: string, values: readonly T[]): T {
  const value = values.find((v) => v === text);
  if (value === undefined) throw new UsageError(`${option} takes ${either(values)}, not '${text}'`);
  return value;
}

/**
 * A clipanion validator from a parser: the option's value arrives parsed. A
 * bad value throws the parser's UsageError rather than returning false, so
 * that clipanion does not reword it ("Invalid value for ...").
 */
export function parsedBy<T>(parse: (text: string) => T): StrictValidator<unknown, T> {
  const validate = (value: unknown, state?: ValidationState): boolean => {
    const parsed = parse(String(value));
    state?.coercions?.push([state.p ?? '.', state.coercion!.bind(null, parsed)]);
    return true;
  };
  return validate as unknown as StrictValidator<unknown, T>;
}

/** A duration option, in milliseconds. */
export const isDuration = (option: string, limits?: { minMs?: number; maxMs?: number }) =>
  parsedBy((text) => parseDuration(option, text, limits));

/** A whole-number option from `min` to `max`. */
export const isWholeNumber = (option: string, min: number, max: number) =>
  parsedBy((text) => parseInteger(option, text, min, max));

/** A size option, in bytes, from `min` to `max`; `range` says that range and why (`from 5M to 5G (S3's part sizes)`). */
export function isSize(option: string, limits?: { min: number; max: number; range: string }) {
  return parsedBy((text) => {
    const bytes = parseSize(option, text);
    if (limits && (bytes < limits.min || bytes > limits.max))
      throw new UsageError(`${option} must be ${limits.range}, not '${text}'`);
    return bytes;
  });
}

/** An option that takes one of `values`. */
export const isChoice = <T extends string>(option: string, values: readonly T[]) =>
  parsedBy((text) => parseChoice(option, text, values));

/** An option whose value must match `pattern`; `problem` says why one does not. */
export function isMatching(pattern: RegExp, problem: (text: string) => string) {
  return parsedBy((text) => {
    if (!pattern.test(text)) throw new UsageError(problem(text));
    return text;
  });
}
