// CRC-32 arithmetic: zlib's CRC-32, and the CRC of two pieces joined, so that
// blocks checksummed apart (and in parallel) add up to the whole file's CRC.
import zlib from 'node:zlib';

/** The CRC-32 of `data`, continuing from `value` (the CRC of what came before). */
export function crc32(data: Uint8Array, value = 0): number {
  return zlib.crc32(data, value);
}

/**
 * The CRC-32 of A followed by B, from crc(A), crc(B) and B's length (zlib's
 * crc32_combine: B's length in zero bits applied to crc(A) by repeated
 * squaring of the CRC's shift operator over GF(2)).
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const times = (mat: Uint32Array, vec: number): number => {
    let sum = 0;
    for (let i = 0; vec !== 0; i += 1, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
    return sum >>> 0;
  };
  const square = (into: Uint32Array, mat: Uint32Array): void => {
    for (let n = 0; n < 32; n += 1) into[n] = times(mat, mat[n]!);
  };
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the operator for one zero bit
  for (let n = 1; n < 32; n += 1) odd[n] = 2 ** (n - 1);
  square(even, odd); // two zero bits
  square(odd, even); // four
  let crc = crcA >>> 0;
  let length = lengthB;
  for (;;) {
    square(even, odd); // one zero byte, then 4, 16, ...
    if (length % 2 === 1) crc = times(even, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
    square(odd, even);
    if (length % 2 === 1) crc = times(odd, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}
