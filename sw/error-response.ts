/**
 * Responses that carry an RPC error in the shape the page's Connect client expects for
 * the request's protocol, so a failure in the worker or the tunnel surfaces as a proper
 * Connect code (e.g. `unavailable`) rather than a bare "Failed to fetch". Pure.
 */
import { Code, codeName } from "../client/code.js";
import { TunnelError, type RpcErrorLike } from "../client/errors.js";
import { addCorsHeaders, type CorsContext } from "./headers.js";
import { codeToHttpStatus, endStreamEnvelope, errorToJsonBytes, setTrailerStatus } from "./rpc-error-wire.js";

/** Which RPC protocol a request speaks, judged by its content type (and Connect GET). */
export type RpcFlavor = "connect-unary" | "connect-stream" | "grpc-web" | "grpc" | "other";

/** The RPC protocol of a request. */
export function rpcFlavor(contentType: string | null, connectGet = false): RpcFlavor {
  if (connectGet) return "connect-unary";
  const ct = (contentType ?? "").trim().toLowerCase();
  if (/^application\/(proto|json)(;|$)/.test(ct)) return "connect-unary";
  if (/^application\/connect\+/.test(ct)) return "connect-stream";
  if (/^application\/grpc-web/.test(ct)) return "grpc-web";
  if (/^application\/grpc(\+|;|$)/.test(ct)) return "grpc";
  return "other";
}

/**
 * A Response that the page's Connect client reads as `error`:
 * Connect unary: HTTP status for the code + error JSON; Connect streaming: 200 + an
 * end-stream message; gRPC-Web and gRPC: 200 + trailers-only `grpc-status` headers;
 * anything else: the HTTP status for the code with the message as text.
 */
export function rpcErrorResponse(flavor: RpcFlavor, requestContentType: string | null, error: RpcErrorLike, cors?: CorsContext): Response {
  const headers = new Headers();
  let status = 200;
  let body: Uint8Array<ArrayBuffer> | string | null = null;
  switch (flavor) {
    case "connect-unary":
      status = codeToHttpStatus(error.code);
      headers.set("content-type", "application/json");
      body = errorToJsonBytes(error);
      break;
    case "connect-stream":
      headers.set("content-type", requestContentType ?? "application/connect+proto");
      body = endStreamEnvelope(error);
      break;
    case "grpc-web":
    case "grpc":
      headers.set("content-type", requestContentType ?? `application/${flavor}+proto`);
      setTrailerStatus(headers, error);
      break;
    default:
      status = codeToHttpStatus(error.code);
      headers.set("content-type", "text/plain; charset=utf-8");
      body = `${codeName(error.code) ?? "error"}: ${error.rawMessage}`;
  }
  if (cors) addCorsHeaders(headers, cors);
  return new Response(body, { status, headers });
}

/** The error for a call the worker could not carry because the gateway is unreachable. */
export function gatewayUnreachableError(gateway: string, cause?: unknown): TunnelError {
  const why = cause instanceof Error && cause.message ? ` (${cause.message})` : "";
  return new TunnelError(
    `swtunnel: the gateway ${gateway} could not be reached${why}; check that it runs and that this origin is allowed`,
    Code.Unavailable,
    { cause },
  );
}
