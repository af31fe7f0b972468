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
  for (const [name, value] of headers) {
    if (!isValidHeaderName(name)) throw new HeaderError(`invalid header name ${JSON.stringify(name.slice(0, 64))}`);
    if (!isValidHeaderValue(value)) throw new HeaderError(`header ${name} has a value with NUL, CR or LF`);
    if (isHopByHop(name, value)) continue;
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

/** node:http2 response headers or trailers as a tunnel header list (pseudo and hop-by-hop headers dropped). */
export function fromHttp2Headers(headers: IncomingHttpHeaders): HeaderList {
  const list: HeaderList = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [String(value)]) {
      if (isHopByHop(name, v) || name === "te") continue;
      if (!isValidHeaderName(name) || !isValidHeaderValue(v)) continue; // node already refuses these; be safe
      list.push([name, v]);
    }
  }
  return list;
}
