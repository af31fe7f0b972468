/**
 * Header block codec: an ordered list of (name, value) pairs, repeated names allowed.
 *
 *   count        u16
 *   count times: name length u16, name bytes (lowercase HTTP token, ASCII)
 *                value length u32, value bytes (UTF-8, no NUL, CR or LF)
 *
 * Binary metadata (`-bin` headers) travels as its HTTP/2 form, base64 text, so it comes
 * out exactly as it went in.
 */
import { ErrorCode, ProtocolError } from "./errors.js";

/** Ordered header list. Names are lowercase; a name may repeat. */
export type HeaderList = Array<[name: string, value: string]>;

const encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is content, not a byte-order mark; stripping it would
// change values and let "\uFEFFGET" pass as the method GET.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// RFC 9110 tchar, lowercase only (HTTP/2 and fetch lowercase names).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// RFC 9113 8.2.1: no NUL, CR or LF anywhere in a value.
const BAD_VALUE = /[\0\r\n]/;

/** True when `name` is a valid lowercase header name. */
export function isValidHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/** True when `value` may be carried as a header value. */
export function isValidHeaderValue(value: string): boolean {
  return !BAD_VALUE.test(value);
}

/**
 * Throws the ProtocolError that encoding `headers` would throw, without encoding them.
 */
export function checkHeaderList(headers: HeaderList): void {
  if (headers.length > 0xffff) {
    throw new ProtocolError(ErrorCode.HEADER_BLOCK_TOO_LARGE, `header block has ${headers.length} entries, at most 65535 fit`);
  }
  for (const [name, value] of headers) {
    if (!isValidHeaderName(name)) throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `invalid header name ${JSON.stringify(name)}`);
    if (!isValidHeaderValue(value)) throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `invalid value for header ${name}`);
    // A valid name is ASCII: its length is its byte length.
    if (name.length > 0xffff) throw new ProtocolError(ErrorCode.HEADER_BLOCK_TOO_LARGE, `header name longer than 65535 bytes`);
  }
}

/** Bytes the encoded block will take; used to size buffers and to enforce limits. */
export function encodedHeaderBlock(headers: HeaderList): { size: number; parts: Uint8Array[] } {
  checkHeaderList(headers);
  const parts: Uint8Array[] = [];
  let size = 2;
  for (const [name, value] of headers) {
    const n = encoder.encode(name);
    const v = encoder.encode(value);
    parts.push(n, v);
    size += 2 + n.length + 4 + v.length;
  }
  return { size, parts };
}

/** Writes a block prepared by {@link encodedHeaderBlock} at `offset`; returns the new offset. */
export function writeHeaderBlock(view: DataView, bytes: Uint8Array, offset: number, parts: Uint8Array[]): number {
  view.setUint16(offset, parts.length / 2);
  offset += 2;
  for (let i = 0; i < parts.length; i += 2) {
    const n = parts[i]!;
    const v = parts[i + 1]!;
    view.setUint16(offset, n.length);
    bytes.set(n, offset + 2);
    offset += 2 + n.length;
    view.setUint32(offset, v.length);
    bytes.set(v, offset + 4);
    offset += 4 + v.length;
  }
  return offset;
}

/** Encodes a header list into a standalone block. */
export function encodeHeaderBlock(headers: HeaderList): Uint8Array {
  const { size, parts } = encodedHeaderBlock(headers);
  const bytes = new Uint8Array(size);
  writeHeaderBlock(new DataView(bytes.buffer), bytes, 0, parts);
  return bytes;
}

/**
 * Decodes a header block occupying exactly `bytes[offset..end)`. Throws ProtocolError
 * (PROTOCOL_ERROR, with `streamId`) on any bad length, name or value.
 */
export function decodeHeaderBlock(bytes: Uint8Array, offset = 0, end = bytes.length, streamId = 0): HeaderList {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `malformed header block: ${why}`, streamId);
  };
  if (end - offset < 2) fail("missing entry count");
  const count = view.getUint16(offset);
  offset += 2;
  const headers: HeaderList = [];
  for (let i = 0; i < count; i++) {
    if (end - offset < 2) fail(`entry ${i}: truncated name length`);
    const nameLen = view.getUint16(offset);
    offset += 2;
    if (nameLen === 0) fail(`entry ${i}: empty name`);
    if (end - offset < nameLen) fail(`entry ${i}: name length ${nameLen} runs past the block`);
    const name = decodeText(bytes, offset, offset + nameLen) ?? fail(`entry ${i}: name is not UTF-8`);
    offset += nameLen;
    if (!isValidHeaderName(name)) fail(`entry ${i}: invalid name ${JSON.stringify(name.slice(0, 64))}`);
    if (end - offset < 4) fail(`entry ${i} (${name}): truncated value length`);
    const valueLen = view.getUint32(offset);
    offset += 4;
    if (end - offset < valueLen) fail(`entry ${i} (${name}): value length ${valueLen} runs past the block`);
    const value = decodeText(bytes, offset, offset + valueLen) ?? fail(`entry ${i} (${name}): value is not UTF-8`);
    offset += valueLen;
    if (!isValidHeaderValue(value)) fail(`entry ${i} (${name}): value contains NUL, CR or LF`);
    headers.push([name, value]);
  }
  if (offset !== end) fail(`${end - offset} bytes after the last entry`);
  return headers;
}

/** UTF-8 decode of a byte range, or undefined when the bytes are not valid UTF-8. */
export function decodeText(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}
