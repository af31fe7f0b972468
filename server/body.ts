/** Small body helpers. */

/** The body of a response with no body; the tunnel then ends the stream on its HEADERS frame. */
export const EMPTY_BODY: AsyncIterable<Uint8Array> = Object.freeze({
  async *[Symbol.asyncIterator]() {},
});

/** A body of fixed chunks. */
export function bodyOf(...chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  };
}
