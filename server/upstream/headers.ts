/**
 * Header translation between the tunnel's header lists and node:http2 header objects:
 * hop-by-hop headers are dropped and names and values validated both ways, so a client
 * cannot smuggle connection-level semantics to the backend.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { isValidHeaderName, isValidHeaderValue, type HeaderList } from "../../protocol/index.js";
import { isGrpc } from "../content-type.js";

/** Connection-specific headers that HTTP/2 forbids (RFC 9113 8.2.2), plus `host`. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "http2-settings"]);

/** Thrown for a header that cannot be forwarded; the message names it. */
export class HeaderError extends Error {
  override readonly name = "HeaderError";
}

/** True when `name: value` must not cross a hop (`te` survives only as `te: trailers`). */
export function isHopByHop(name: string, value: string): boolean {
  if (name === "te") return value.trim().toLowerCase() !== "trailers";
  return HOP_BY_HOP.has(name);
}

/** A tunnel request head as node:http2 request headers. Throws HeaderError on a bad header. */
export function toHttp2RequestHeaders(method: string, path: string, headers: HeaderList): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ":method": method, ":path": path };
  let grpc = false;
  let te = false;
  for (let [name, value] of headers) {
    if (!isValidHeaderName(name)) throw new HeaderError(`invalid header name ${JSON.stringify(name.slice(0, 64))}`);
    if (!isValidHeaderValue(value)) throw new HeaderError(`header ${name} has a value with NUL, CR or LF`);
    if (isHopByHop(name, value)) continue;
    value = toWire(value);
    if (name === "te") te = true;
    if (name === "content-type" && isGrpc(value)) grpc = true;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  // gRPC over HTTP/2 requires `te: trailers`; browsers cannot send it (a forbidden header).
  if (grpc && !te) out["te"] = "trailers";
  return out;
}

/**
 * A tunnel header value (text) as node:http2 wants it: node writes each character of a
 * header string as one byte (Latin-1), so text beyond ASCII goes as its UTF-8 bytes, one
 * character per byte. The backend then sees exactly the bytes the tunnel carried.
 */
export function toWire(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a plain ASCII range check
  return /^[\x00-\x7f]*$/.test(value) ? value : Buffer.from(value, "utf8").toString("latin1");
}

/**
 * An HTTP/2 header value from node (one character per byte) as tunnel text: its bytes read
 * as UTF-8. Bytes that are not UTF-8 cannot be carried (tunnel values are UTF-8 text,
 * docs/PROTOCOL.md section 6): HeaderError, never a guess.
 */
export function fromWire(name: string, value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a plain ASCII range check
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(value, "latin1"));
  } catch {
    throw new HeaderError(`upstream header ${name} is not UTF-8 text, which the tunnel carries`);
  }
}

/** node:http2 response headers or trailers as a tunnel header list (pseudo and hop-by-hop headers dropped). */
export function fromHttp2Headers(headers: IncomingHttpHeaders): HeaderList {
  const list: HeaderList = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [String(value)]) {
      if (isHopByHop(name, v) || name === "te") continue;
      const text = fromWire(name, v);
      if (!isValidHeaderName(name) || !isValidHeaderValue(text)) throw new HeaderError(`upstream header ${name} cannot be carried`);
      list.push([name, text]);
    }
  }
  return list;
}
