/**
 * The bytes of an RPC error in each protocol, written without @connectrpc/connect so the
 * Service Worker bundle stays small (see ../code.ts). Each function gives the same output
 * as the Connect-ES function it is named after (@connectrpc/connect 2.x), for errors
 * without details — the only kind the worker makes or receives from the tunnel. Pure.
 */
import { codeToString } from "../client/code.js";
import type { RpcErrorLike } from "../client/errors.js";

/** Envelope flag of a Connect end-stream message (Connect's `endStreamFlag`). */
export const END_STREAM_FLAG = 0b00000010;
/** Envelope flag of a gRPC-Web trailer message (Connect's `trailerFlag`). */
export const TRAILER_FLAG = 0b10000000;

/** The HTTP status for a Connect code (Connect's `codeToHttpStatus`). */
export function codeToHttpStatus(code: number): number {
  // Index = code; codes 1 (canceled) .. 16 (unauthenticated). Anything else: 500, as unknown.
  return [0, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401][code] || 500;
}

/** A length-prefixed envelope: flags byte, 4-byte big-endian length, data (Connect's `encodeEnvelope`). */
export function encodeEnvelope(flags: number, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(data.length + 5);
  bytes.set(data, 5);
  const v = new DataView(bytes.buffer);
  v.setUint8(0, flags);
  v.setUint32(1, data.length);
  return bytes;
}

/** The Connect error JSON object (Connect's `errorToJson`). */
export function errorToJson(error: RpcErrorLike): { code: string; message?: string } {
  const o: { code: string; message?: string } = { code: codeToString(error.code) };
  if (error.rawMessage.length > 0) o.message = error.rawMessage;
  return o;
}

/** The Connect unary error body (Connect's `errorToJsonBytes`). */
export function errorToJsonBytes(error: RpcErrorLike): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify(errorToJson(error)));
}

/**
 * The Connect end-stream message that ends a stream with `error`, enveloped (Connect's
 * `endStreamToJson` with empty metadata, serialized, in an end-stream envelope).
 */
export function endStreamEnvelope(error: RpcErrorLike): Uint8Array<ArrayBuffer> {
  const md = new Headers();
  if (!error.isWireError) mergeNonProtocolHeaders(md, error.metadata);
  const es: { error: ReturnType<typeof errorToJson>; metadata?: Record<string, string[]> } = { error: errorToJson(error) };
  let hasMetadata = false;
  const metadata: Record<string, string[]> = {};
  md.forEach((value, key) => {
    hasMetadata = true;
    metadata[key] = [value];
  });
  if (hasMetadata) es.metadata = metadata;
  return encodeEnvelope(END_STREAM_FLAG, new TextEncoder().encode(JSON.stringify(es)));
}

/** Sets `grpc-status` and `grpc-message` (and the error's metadata) on `target` (Connect's `setTrailerStatus`). */
export function setTrailerStatus(target: Headers, error: RpcErrorLike): Headers {
  if (!error.isWireError) mergeNonProtocolHeaders(target, error.metadata);
  target.set("grpc-status", error.code.toString(10));
  target.set("grpc-message", encodeURIComponent(error.rawMessage));
  return target;
}

/** Headers as a gRPC-Web trailer block, `name: value\r\n` each (Connect's `trailerSerialize`). */
export function trailerSerialize(trailer: Headers): Uint8Array<ArrayBuffer> {
  const lines: string[] = [];
  trailer.forEach((value, key) => {
    lines.push(`${key}: ${value}\r\n`);
  });
  return new TextEncoder().encode(lines.join(""));
}

// Protocol-level headers that error metadata never sets (Connect's `protocolHeaders`).
const PROTOCOL_HEADERS = new Set([
  "content-type",
  "content-length",
  "content-encoding",
  "host",
  "user-agent",
  "trailer",
  "date",
  "accept-encoding",
  "trailer-",
  "connect-content-encoding",
  "connect-accept-encoding",
  "connect-timeout-ms",
  "connect-protocol-version",
  "grpc-encoding",
  "grpc-accept-encoding",
  "grpc-timeout",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
]);

/** Appends `from`'s headers to `into`, except protocol headers (Connect's `mergeNonProtocolHeaders`). */
function mergeNonProtocolHeaders(into: Headers, from: Headers): void {
  from.forEach((value, key) => {
    if (!PROTOCOL_HEADERS.has(key.toLowerCase())) into.append(key, value);
  });
}
