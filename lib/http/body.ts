import type { HttpRequest } from '@azure/functions';
import { AppError } from '../errors.js';

/**
 * Read a request body with a hard cap: Content-Length is checked first, then the stream is
 * counted while it is read, so an oversize or lying request is cut off early.
 */
export async function readBody(request: HttpRequest, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = (): AppError =>
    new AppError('BODY_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (request.headers.has('content-length') && Number.isFinite(declared)) {
    // A declared length within the cap: the whole body at once (the Functions host has it
    // buffered already); still checked, in case the declaration was wrong.
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > maxBytes) throw tooLarge();
    return bytes;
  }
  const stream = request.body;
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const result = await reader.read();
    if (result.done) break;
    // The Functions body stream is untyped (ReadableStream<any>); its chunks are bytes.
    const value: unknown = result.value;
    if (!(value instanceof Uint8Array))
      throw new TypeError('the request body stream yielded a chunk that is not bytes');
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
