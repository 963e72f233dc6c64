// Python 2.7's format-spec mini-language (`format(value, spec)`, what
// `str.format` applies to `{field:spec}`) and its `!s` / `!r` conversions, for
// the two kinds of value the Python logjam gave its template: a byte string
// (prefix, month, filename...) and an int (year). Byte strings are JS strings
// of char codes 0-255, one per byte, because Python 2 counted widths and
// precisions in bytes, not characters. Pure.

/** A Python 2 `str`: one char per byte (0-255). */
export type ByteString = string;
export type PyValue = ByteString | number;

/** What Python raised (ValueError, OverflowError), with its message. */
export class PyFormatError extends Error {
  override name = 'PyFormatError';
}

interface Spec {
  fill: string;
  align: '<' | '>' | '=' | '^' | '';
  sign: '+' | '-' | ' ' | '';
  alternate: boolean;
  width: number;
  grouping: boolean;
  precision: number;
  type: string;
}

/** Parses a spec as CPython 2.7's parse_internal_render_format_spec; the type defaults to the value's own ('s' or 'd'). */
function parseSpec(text: string, defaultType: string): Spec {
  const spec: Spec = {
    fill: '',
    align: '',
    sign: '',
    alternate: false,
    width: -1,
    grouping: false,
    precision: -1,
    type: defaultType,
  };
  let i = 0;
  const isAlign = (c: string | undefined) => c === '<' || c === '>' || c === '=' || c === '^';
  if (text.length >= 2 && isAlign(text[1])) {
    spec.fill = text[0]!;
    spec.align = text[1] as Spec['align'];
    i = 2;
  } else if (isAlign(text[0])) {
    spec.align = text[0] as Spec['align'];
    i = 1;
  }
  if (text[i] === '+' || text[i] === '-' || text[i] === ' ') spec.sign = text[i++] as Spec['sign'];
  if (text[i] === '#') {
    spec.alternate = true;
    i += 1;
  }
  if (spec.fill === '' && text[i] === '0') {
    spec.fill = '0';
    if (spec.align === '') spec.align = '=';
    i += 1;
  }
  const digits = (): number => {
    const m = /^\d+/.exec(text.slice(i));
    if (!m) return -1;
    i += m[0].length;
    return Number(m[0]);
  };
  spec.width = digits();
  if (text[i] === ',') {
    spec.grouping = true;
    i += 1;
  }
  if (text[i] === '.') {
    i += 1;
    spec.precision = digits();
    if (spec.precision === -1) throw new PyFormatError('ValueError: Format specifier missing precision');
  }
  if (text.length - i > 1) throw new PyFormatError('ValueError: Invalid conversion specification');
  if (text.length - i === 1) spec.type = text[i]!;
  if (spec.grouping && !['d', 'e', 'f', 'g', 'E', 'G', '%', 'F'].includes(spec.type))
    throw new PyFormatError(`ValueError: Cannot specify ',' with '${spec.type}'.`);
  return spec;
}

/** `format(value, spec)` as Python 2.7 computes it. */
export function pyFormat(value: PyValue, specText: string): ByteString {
  return typeof value === 'number'
    ? formatInt(value, parseSpec(specText, 'd'))
    : formatStr(value, parseSpec(specText, 's'));
}

/** `{field!s}` / `{field!r}`: str() or repr() of the value. */
export function pyConvert(value: PyValue, conversion: string): PyValue {
  if (conversion === 's') return typeof value === 'number' ? String(value) : value;
  if (conversion === 'r') return typeof value === 'number' ? String(value) : pyRepr(value);
  throw new PyFormatError(`ValueError: Unknown conversion specifier ${conversion}`);
}

/** Python 2's repr() of a byte string. */
export function pyRepr(value: ByteString): ByteString {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (c === quote || c === '\\') out += `\\${c}`;
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (code < 0x20 || code >= 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out + quote;
}

function pad(body: string, spec: Spec, defaultAlign: '<' | '>', signPart = ''): string {
  const align = spec.align || defaultAlign;
  const fill = spec.fill || ' ';
  const room = Math.max(0, spec.width - body.length - signPart.length);
  if (align === '=') return signPart + fill.repeat(room) + body;
  const whole = signPart + body;
  if (align === '<') return whole + fill.repeat(room);
  if (align === '>') return fill.repeat(room) + whole;
  const left = Math.floor(room / 2);
  return fill.repeat(left) + whole + fill.repeat(room - left);
}

function formatStr(value: ByteString, spec: Spec): ByteString {
  if (spec.type !== 's')
    throw new PyFormatError(`ValueError: Unknown format code '${spec.type}' for object of type 'str'`);
  if (spec.sign) throw new PyFormatError('ValueError: Sign not allowed in string format specifier');
  if (spec.alternate) throw new PyFormatError('ValueError: Alternate form (#) not allowed in string format specifier');
  if (spec.align === '=') throw new PyFormatError("ValueError: '=' alignment not allowed in string format specifier");
  return pad(spec.precision >= 0 ? value.slice(0, spec.precision) : value, spec, '<');
}

/** Digits grouped by three with commas, zero-padded (inside the grouping) to at least minWidth, as CPython does for '0' fill. */
function group(digits: string, minWidth: number): string {
  let out = '';
  let placed = 0;
  for (let i = digits.length - 1; i >= 0 || out.length < minWidth; i -= 1) {
    if (placed > 0 && placed % 3 === 0) out = `,${out}`;
    out = (i >= 0 ? digits[i] : '0') + out;
    placed += 1;
  }
  return out;
}

function formatInt(value: number, spec: Spec): ByteString {
  const type = spec.type;
  if ('eEfFgG%'.includes(type)) return formatFloat(value, spec, type);
  if (!'bcdoxXn'.includes(type))
    throw new PyFormatError(`ValueError: Unknown format code '${type}' for object of type 'int'`);
  if (spec.precision >= 0) throw new PyFormatError('ValueError: Precision not allowed in integer format specifier');
  if (type === 'c') {
    if (spec.sign) throw new PyFormatError("ValueError: Sign not allowed with integer format specifier 'c'");
    if (value < 0 || value > 0xff) throw new PyFormatError('OverflowError: %c arg not in range(0x100)');
    return pad(String.fromCharCode(value), spec, '>');
  }
  const radix = { b: 2, o: 8, x: 16, X: 16, d: 10, n: 10 }[type]!;
  let digits = Math.abs(value).toString(radix);
  if (type === 'X') digits = digits.toUpperCase();
  const prefix = spec.alternate ? (({ b: '0b', o: '0o', x: '0x', X: '0X' } as Record<string, string>)[type] ?? '') : '';
  return number(value < 0, prefix, digits, '', spec);
}

/** A number's parts put together: sign, radix prefix, integer digits (grouped), the rest (fraction, exponent, %). */
function number(negative: boolean, prefix: string, digits: string, rest: string, spec: Spec): string {
  const signPart = (negative ? '-' : spec.sign === '+' ? '+' : spec.sign === ' ' ? ' ' : '') + prefix;
  const zeroFill = spec.fill === '0' && spec.align === '=';
  const minWidth = zeroFill ? Math.max(0, spec.width - signPart.length - rest.length) : 0;
  const body = spec.grouping ? group(digits, minWidth) : zeroFill ? digits.padStart(minWidth, '0') : digits;
  return pad(body + rest, spec, '>', signPart);
}

/** `digits` (an integer's, no leading zeros) rounded to `keep` leading digits, half to even as on the exact value. */
function roundDigits(digits: string, keep: number): { digits: string; carry: boolean } {
  if (digits.length <= keep) return { digits: digits.padEnd(keep, '0'), carry: false };
  const head = digits.slice(0, keep);
  const tail = digits.slice(keep);
  const half = '5'.padEnd(tail.length, '0');
  const up = tail > half || (tail === half && keep > 0 && Number(head[keep - 1]) % 2 === 1);
  if (!up) return { digits: head, carry: false };
  const bumped = (BigInt(head || '0') + 1n).toString();
  if (bumped.length > keep) return { digits: bumped.slice(0, keep), carry: true };
  return { digits: bumped.padStart(keep, '0'), carry: false };
}

/** e/E/f/F/g/G/% of an int: exact, since the value is a whole number. */
function formatFloat(value: number, spec: Spec, type: string): ByteString {
  if (spec.alternate) throw new PyFormatError('ValueError: Alternate form (#) not allowed in float format specifier');
  const negative = value < 0;
  let digits = String(Math.abs(value) * (type === '%' ? 100 : 1));
  const precision = spec.precision < 0 ? 6 : spec.precision;
  const fixed = (p: number) => ({ int: digits, rest: p > 0 ? `.${'0'.repeat(p)}` : '' });
  const exponent = (p: number, upper: boolean, trim: boolean) => {
    let exp = digits.length - 1;
    const r = roundDigits(digits, p + 1);
    if (r.carry) exp += 1;
    let fraction = r.digits.slice(1);
    if (trim) fraction = fraction.replace(/0+$/, '');
    return {
      int: r.digits[0]!,
      rest: `${fraction ? `.${fraction}` : ''}${upper ? 'E' : 'e'}${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`,
    };
  };
  let parts: { int: string; rest: string };
  if (value === 0) digits = '0';
  if (type === 'f' || type === 'F' || type === '%') parts = fixed(precision);
  else if (type === 'e' || type === 'E') parts = exponent(precision, type === 'E', false);
  else {
    const p = precision === 0 ? 1 : precision;
    const r = roundDigits(digits, p);
    const exp = digits.length - 1 + (r.carry ? 1 : 0);
    if (exp < p && value !== 0) {
      // Fixed notation with p significant digits; a whole number has no fraction left once zeros are trimmed.
      const rounded = r.digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      parts = { int: r.carry ? `1${'0'.repeat(exp)}` : rounded, rest: '' };
    } else if (value === 0) {
      parts = { int: '0', rest: '' };
    } else {
      parts = exponent(p - 1, type === 'G', true);
    }
  }
  return number(negative, '', parts.int, parts.rest + (type === '%' ? '%' : ''), spec);
}
