/**
 * gRPC to a gRPC upstream: passed through untouched. The tunnel already carries HTTP
 * semantics (head, body, trailers), so there is nothing to translate; only a failure to
 * reach the upstream is answered here, as a trailers-only gRPC status.
 */
import type { ProtocolAdapter } from "../exchange.js";
import { contentType } from "./headers.js";
import { passThrough } from "./passthrough.js";

export const grpcPassthrough: ProtocolAdapter = {
  name: "grpc",
  matches(request) {
    const type = contentType(request.headers);
    return request.method === "POST" && (type === "application/grpc" || type.startsWith("application/grpc+"));
  },
  handle: passThrough,
};
