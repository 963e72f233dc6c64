// Rendering a template's parts as Python 2's str.format did, byte for byte.
import { bytesToDisplay, nameBytes } from '@logjam/core';
import { pyConvert, pyFormat, type ByteString, type PyValue } from './pyformat.js';
import type { Field, FieldValues, Part } from './template-fields.js';

/** A byte string (Python 2's str) of a text: its UTF-8 bytes, a name's own bytes where it is not UTF-8. */
const bytesOf = (text: string): ByteString => nameBytes(text).toString('latin1');

/** One field rendered as Python 2's str.format did: year an int, the others byte strings. */
export function renderField(part: { field: Field; conversion: string; spec: string }, values: FieldValues): ByteString {
  let value: PyValue = part.field === 'year' ? Number(values.year) : bytesOf(values[part.field]);
  if (part.conversion) value = pyConvert(value, part.conversion);
  return pyFormat(value, part.spec);
}

/** Parts rendered into text, each byte that is not UTF-8 (a name's, or one a precision cut) as %XX. */
export function renderParts(
  parts: readonly Part[],
  values: FieldValues,
  check?: (field: Field, rendered: ByteString) => void,
): string {
  let bytes = '';
  for (const p of parts) {
    if ('text' in p) {
      bytes += bytesOf(p.text);
      continue;
    }
    const rendered = renderField(p, values);
    check?.(p.field, rendered);
    bytes += rendered;
  }
  return bytesToDisplay(Buffer.from(bytes, 'latin1'));
}
