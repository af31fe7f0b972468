/**
 * Header handling at the worker boundary: which request headers travel through the
 * tunnel, and the CORS headers a synthesized Response needs when the page called
 * another origin. Pure.
 */
import type { HeaderList } from "../protocol/index.js";

/**
 * Request headers that never travel: hop-by-hop and connection-level (the tunnel is the
 * connection), browser-only fetch metadata, and `accept-encoding` — a Response the
 * worker synthesizes is not decompressed by the browser, so the upstream must not
 * compress at the HTTP level (Connect and gRPC compress per message instead).
 */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "host",
  "content-length",
  "expect",
  "accept-encoding",
  "priority",
  "cookie",
]);

/** True when a request header is dropped before the request enters the tunnel. */
export function isDroppedRequestHeader(name: string): boolean {
  return DROPPED.has(name) || name.startsWith("sec-") || name.startsWith("proxy-") || name.startsWith(":");
}

/** The request's headers as a tunnel header list, browser-only headers dropped. */
export function tunnelRequestHeaders(headers: Headers): HeaderList {
  const list: HeaderList = [];
  headers.forEach((value, name) => {
    if (!isDroppedRequestHeader(name)) list.push([name, value]);
  });
  return list;
}

/** Response headers that a synthesized Response must not carry (the tunnel framed the body). */
const DROPPED_RESPONSE = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "content-length", "trailer"]);

/**
 * Builds the Headers of a synthesized Response. When the page's origin differs from the
 * request's, adds CORS headers naming every response header, so the page can read
 * `grpc-status`, `x-echo-*` and the rest.
 */
export function responseHeaders(list: HeaderList, cors: CorsContext | undefined): Headers {
  const headers = new Headers();
  for (const [name, value] of list) {
    if (DROPPED_RESPONSE.has(name) || name.startsWith(":")) continue;
    headers.append(name, value);
  }
  if (cors) addCorsHeaders(headers, cors);
  return headers;
}

/** What the worker knows about a cross-origin request. */
export interface CorsContext {
  /** The page's origin (the worker's own origin: a worker only controls same-origin pages). */
  origin: string;
  /** The request was made with `credentials: "include"`. */
  credentials: boolean;
}

/** The CORS context of a request, or undefined when it is same-origin (no CORS headers needed). */
export function corsContext(request: Request, url: URL, pageOrigin: string): CorsContext | undefined {
  if (url.origin === pageOrigin) return undefined;
  return { origin: pageOrigin, credentials: request.credentials === "include" };
}

/** Adds Access-Control-Allow-Origin / -Expose-Headers / -Allow-Credentials to response headers. */
export function addCorsHeaders(headers: Headers, cors: CorsContext): void {
  const names = new Set<string>();
  headers.forEach((_, name) => {
    if (!name.startsWith("access-control-")) names.add(name);
  });
  headers.set("access-control-allow-origin", cors.origin);
  headers.append("vary", "Origin");
  if (names.size > 0) headers.set("access-control-expose-headers", [...names].join(", "));
  if (cors.credentials) headers.set("access-control-allow-credentials", "true");
}

/** Seconds a browser may cache the preflight the worker answers. */
export const PREFLIGHT_MAX_AGE_S = 7200;

/**
 * The answer to a CORS preflight for a carried URL: 204 allowing the method and headers
 * asked for. Answered locally since the worker, not the origin, serves the real request.
 */
export function preflightResponse(request: Request, pageOrigin: string): Response {
  const headers = new Headers({
    "access-control-allow-origin": pageOrigin,
    "access-control-allow-methods": request.headers.get("access-control-request-method") ?? "GET, POST",
    "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
    vary: "Origin",
  });
  const asked = request.headers.get("access-control-request-headers");
  if (asked) headers.set("access-control-allow-headers", asked);
  if (request.credentials === "include") headers.set("access-control-allow-credentials", "true");
  return new Response(null, { status: 204, headers });
}
