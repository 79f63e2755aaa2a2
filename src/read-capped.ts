/**
 * A stream's bytes, at most `limit` of them: `undefined` — after cancelling
 * the stream, so the sender is not read any further — when it has more.
 * Counting what actually arrives is what bounds memory: a Content-Length may
 * be missing (chunked) or lie. Read errors propagate. Used for the HTTP API's
 * request bodies and the authorization service's answers alike.
 */
export async function readCapped(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | undefined> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) throw new TypeError("the stream yielded something other than bytes");
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
