/** Response body helpers, for the core and the adapters alike. */

/** The body of a response with no body; the tunnel then ends the stream on its HEADERS frame. */
export const EMPTY_BODY: AsyncIterable<Uint8Array> = Object.freeze({
  async *[Symbol.asyncIterator]() {},
});

/**
 * A body of fixed chunks. Empty chunks are left out (they would cost a DATA frame each),
 * and a body with no bytes at all is {@link EMPTY_BODY}, so the stream ends on its head.
 */
export function bodyOf(...chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  const parts = chunks.filter((c) => c.byteLength > 0);
  if (parts.length === 0) return EMPTY_BODY;
  return {
    async *[Symbol.asyncIterator]() {
      yield* parts;
    },
  };
}
