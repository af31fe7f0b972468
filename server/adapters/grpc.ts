/**
 * gRPC to a gRPC upstream: passed through untouched. The tunnel already carries HTTP
 * semantics (head, body, trailers), so there is nothing to translate.
 */
import type { ProtocolAdapter } from "../exchange.js";
import { contentType } from "./headers.js";

export const grpcPassthrough: ProtocolAdapter = {
  name: "grpc",
  matches(request) {
    const type = contentType(request.headers);
    return type === "application/grpc" || type.startsWith("application/grpc+");
  },
  handle(request, upstream) {
    return upstream(request);
  },
};
