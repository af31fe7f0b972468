/**
 * Connect unary GET requests: `?connect=v1&encoding=proto|json&message=...&base64=1
 * &compression=gzip`. Pure parsing, no I/O.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

/** A parsed Connect GET request. */
export interface ConnectGet {
  /** The path without the query, e.g. `/pkg.Service/Method`. */
  path: string;
  /** Codec name from `encoding`, e.g. `proto` or `json`. */
  codec: string;
  /** The request message bytes, still compressed when `compression` is set. */
  message: Uint8Array;
  /** `compression`, undefined when absent. */
  compression: string | undefined;
}

/** True when a GET request's query says it is a Connect unary call. */
export function isConnectGet(method: string, path: string): boolean {
  if (method !== "GET") return false;
  const query = parseQuery(path);
  return query.get("connect") === "v1" || (query.has("encoding") && query.has("message"));
}

/**
 * Why a Connect GET may not run `path`, or undefined when it may. Connect allows GET only
 * for methods marked `option idempotency_level = NO_SIDE_EFFECTS`; a link on any site can
 * make a browser send a GET, so the gateway must know the method is safe: without
 * descriptors it cannot, and refuses every GET.
 */
export function connectGetRefusal(path: string, lookup: ((path: string) => DescMethod | undefined) | undefined): string | undefined {
  const name = path.split("?")[0]!;
  if (!lookup) {
    return `Connect GET needs descriptors to know which methods have no side effects: pass --descriptors FILE (a binary FileDescriptorSet from \`buf build -o\`), or call ${name} with POST`;
  }
  const method = lookup(name);
  if (!method) return `${name} is not a method in the gateway's descriptors; Connect GET runs only known NO_SIDE_EFFECTS methods`;
  if (method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) {
    return `${name} is not marked idempotency_level = NO_SIDE_EFFECTS; call it with POST`;
  }
  return undefined;
}

/** Parses a Connect GET request path; bad input is `invalid_argument`. */
export function parseConnectGet(pathAndQuery: string): ConnectGet {
  const q = pathAndQuery.indexOf("?");
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = parseQuery(pathAndQuery);
  const codec = query.get("encoding");
  if (codec === undefined) throw new ConnectError("Connect GET request lacks the encoding query parameter", Code.InvalidArgument);
  const raw = query.get("message") ?? "";
  let message: Uint8Array;
  if (query.get("base64") === "1") {
    if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(raw)) throw new ConnectError("Connect GET message is not valid base64", Code.InvalidArgument);
    message = Buffer.from(raw, "base64url"); // also reads the standard alphabet and padding
  } else {
    message = percentDecode(raw);
  }
  const compression = query.get("compression");
  return { path, codec, message, compression: compression === "" ? undefined : compression };
}

/** Raw (still percent-encoded) query values by name; the first occurrence wins. */
function parseQuery(pathAndQuery: string): Map<string, string> {
  const map = new Map<string, string>();
  const q = pathAndQuery.indexOf("?");
  if (q < 0) return map;
  for (const pair of pathAndQuery.slice(q + 1).split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = new TextDecoder().decode(percentDecode(eq < 0 ? pair : pair.slice(0, eq)));
    const value = eq < 0 ? "" : pair.slice(eq + 1);
    if (!map.has(name)) map.set(name, name === "message" ? value : new TextDecoder().decode(percentDecode(value)));
  }
  return map;
}

/** Percent-decodes to bytes (not text: an unencoded binary message may be any bytes). */
export function percentDecode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new ConnectError("bad percent-encoding in the query", Code.InvalidArgument);
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x2b /* + */) {
      out.push(0x20); // form encoding, as URLSearchParams reads it
    } else if (c < 0x80) {
      out.push(c);
    } else {
      const char = String.fromCodePoint(s.codePointAt(i)!);
      out.push(...Buffer.from(char, "utf8"));
      i += char.length - 1;
    }
  }
  return Uint8Array.from(out);
}
