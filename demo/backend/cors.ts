/**
 * CORS for the HTTP/1.1 Connect backend, open to any origin, so pages on other origins
 * (browser tests, the benchmark) can call it directly with Connect or gRPC-Web.
 * Hand-written because @connectrpc/cors is not a dependency; the header lists follow it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Request headers Connect and gRPC-Web clients send (preflights may ask for more; those are allowed too). */
export const corsAllowedHeaders = [
  "Content-Type",
  "Connect-Protocol-Version",
  "Connect-Timeout-Ms",
  "Connect-Accept-Encoding",
  "Connect-Content-Encoding",
  "Grpc-Timeout",
  "Grpc-Accept-Encoding",
  "Grpc-Encoding",
  "X-Grpc-Web",
  "X-User-Agent",
];

/** Response headers pages may read; "*" also exposes the x-echo- headers for non-credentialed calls. */
export const corsExposedHeaders = [
  "*",
  "Grpc-Status",
  "Grpc-Message",
  "Grpc-Status-Details-Bin",
  "Connect-Content-Encoding",
  "Connect-Accept-Encoding",
  "Grpc-Encoding",
  "Grpc-Accept-Encoding",
];

/** How long browsers may cache a preflight, in seconds. */
export const corsMaxAgeSeconds = 7200;

/**
 * Sets CORS headers on `res`. Returns true if the request was a preflight and has been
 * answered (the caller must not handle it further).
 */
export function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  res.setHeader("Access-Control-Expose-Headers", corsExposedHeaders.join(", "));
  const preflightMethod = req.headers["access-control-request-method"];
  if (req.method !== "OPTIONS" || preflightMethod === undefined) return false;
  const requested = req.headers["access-control-request-headers"];
  const allowed = requested ? [...corsAllowedHeaders, requested] : corsAllowedHeaders;
  res.setHeader("Access-Control-Allow-Methods", "GET, POST");
  res.setHeader("Access-Control-Allow-Headers", allowed.join(", "));
  res.setHeader("Access-Control-Max-Age", String(corsMaxAgeSeconds));
  res.writeHead(204);
  res.end();
  return true;
}
