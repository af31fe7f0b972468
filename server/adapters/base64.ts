/**
 * Streaming base64 for gRPC-Web text mode (`application/grpc-web-text`).
 *
 * Requests: chunk boundaries fall anywhere (even inside a 4-character group), and a body
 * may be several padded base64 segments one after another (one per message), so the
 * decoder keeps the incomplete group for the next chunk and flushes at every padded group.
 * Responses: each chunk is encoded on its own, padded, as Envoy does; gRPC-Web text clients
 * decode group by group, so a chunk never waits for the next one.
 */
import { Code, ConnectError } from "@connectrpc/connect";

const WHITESPACE = /[\s]/g;
const ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a base64 text body chunk by chunk. */
export async function* decodeBase64Stream(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true }).replace(WHITESPACE, "");
    const { bytes, rest } = decodeGroups(pending);
    pending = rest;
    if (bytes.byteLength > 0) yield bytes;
  }
  pending += decoder.decode().replace(WHITESPACE, "");
  if (pending.length > 0) {
    throw new ConnectError(`grpc-web-text request body ends inside a base64 group ("${pending}")`, Code.InvalidArgument);
  }
}

/** Decodes the complete 4-character groups of `text`; returns the decoded bytes and the rest. */
export function decodeGroups(text: string): { bytes: Uint8Array; rest: string } {
  const parts: Buffer[] = [];
  let start = 0;
  let i = 0;
  for (; i + 4 <= text.length; i += 4) {
    // A padded group ends a segment: decode up to it so that padding inside the body
    // (concatenated segments) never confuses the decoder.
    if (text[i + 3] === "=") {
      parts.push(decodeSegment(text.slice(start, i + 4)));
      start = i + 4;
    }
  }
  if (i > start) parts.push(decodeSegment(text.slice(start, i)));
  return { bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts), rest: text.slice(i) };
}

function decodeSegment(segment: string): Buffer {
  if (!ALPHABET.test(segment)) {
    throw new ConnectError("grpc-web-text request body is not valid base64", Code.InvalidArgument);
  }
  return Buffer.from(segment, "base64");
}

/** Encodes a body chunk by chunk (each chunk padded on its own). */
export async function* encodeBase64Stream(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    if (chunk.byteLength > 0) yield Buffer.from(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64"), "latin1");
  }
}
