/** Async-iterable body helpers shared by the adapters. */
import { Code, ConnectError } from "@connectrpc/connect";

/** A body made of the given chunks. */
export async function* bodyOf(...chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const c of chunks) if (c.byteLength > 0) yield c;
}

/**
 * Reads a whole body, failing with `resource_exhausted` past `maxBytes` (unary bodies
 * only: they are a single message, so the limit is the message limit).
 */
export async function readBody(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      throw new ConnectError(`message is larger than the gateway's limit of ${maxBytes} bytes`, Code.ResourceExhausted);
    }
    chunks.push(chunk);
  }
  return concat(chunks, size);
}

/** Concatenates byte arrays. */
export function concat(chunks: Uint8Array[], size = chunks.reduce((n, c) => n + c.byteLength, 0)): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
