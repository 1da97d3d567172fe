/** DER SET OF from already-encoded elements, in the order given (X.690 §8.12). */
export function derSet(items: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(items);
  return new Uint8Array(Buffer.concat([Buffer.from([0x31]), derLength(body.length), body]));
}

function derLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
