/**
 * Which RPC protocol a client speaks, by content type and method, so that failures can be
 * answered in that protocol (a gRPC status, a Connect error JSON or end-stream).
 */
import type { ConnectError } from "@connectrpc/connect";
import { EMPTY_BODY } from "../body.js";
import { isConnectStream, isGrpc, isGrpcWeb } from "../content-type.js";
import type { ProxyRequest, ProxyResponse } from "../exchange.js";
import { connectStreamError, connectUnaryError } from "./connect-errors.js";
import { isConnectGet } from "./connect-get.js";
import { grpcStatusFields } from "./grpc-status.js";
import { trailersOnly } from "./grpc-web.js";
import { contentType, getHeader } from "./headers.js";

export type ClientProtocol = "grpc" | "grpc-web" | "connect-stream" | "connect-unary";

/** The client's protocol, or undefined when the request is none of Connect, gRPC, gRPC-Web. */
export function clientProtocol(request: ProxyRequest): ClientProtocol | undefined {
  const type = contentType(request.headers);
  if (request.method === "GET") return isConnectGet(request.method, request.path) ? "connect-unary" : undefined;
  if (request.method !== "POST") return undefined;
  if (isGrpc(type)) return "grpc";
  if (isGrpcWeb(type)) return "grpc-web";
  if (isConnectStream(type)) return "connect-stream";
  // Connect unary: any `application/<codec>` other than the streaming families above.
  if (/^application\/[a-z0-9._+-]+$/.test(type)) return "connect-unary";
  return undefined;
}

/** An answer carrying `error` in the client's protocol (before any response head went out). */
export function errorResponse(request: ProxyRequest, error: ConnectError): ProxyResponse {
  const type = getHeader(request.headers, "content-type") ?? "";
  switch (clientProtocol(request)) {
    case "grpc":
      return { status: 200, headers: [["content-type", type], ...grpcStatusFields(error)], body: EMPTY_BODY, trailers: () => [] };
    case "grpc-web":
      return trailersOnly(type, error);
    case "connect-stream":
      return connectStreamError(contentType(request.headers), error);
    default:
      return connectUnaryError(error);
  }
}
