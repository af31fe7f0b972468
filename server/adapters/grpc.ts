/**
 * gRPC to a gRPC upstream: passed through untouched. The tunnel already carries HTTP
 * semantics (head, body, trailers), so there is nothing to translate; only a failure to
 * reach the upstream is answered here, as a trailers-only gRPC status.
 */
import { isGrpc } from "../content-type.js";
import type { ProtocolAdapter } from "../exchange.js";
import { getHeader } from "./headers.js";
import { passThrough } from "./passthrough.js";

export const grpcPassthrough: ProtocolAdapter = {
  name: "grpc",
  matches(request) {
    return request.method === "POST" && isGrpc(getHeader(request.headers, "content-type"));
  },
  handle: passThrough,
};
