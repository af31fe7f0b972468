/**
 * Everything to a Connect upstream (e.g. @connectrpc/connect-node), which speaks Connect,
 * gRPC and gRPC-Web itself: requests and responses pass through untouched. Only a failure
 * to reach the upstream is answered here, in the client's protocol.
 */
import type { ProtocolAdapter, ProxyRequest, ProxyResponse, Upstream } from "../exchange.js";
import { clientProtocol, errorResponse } from "./client-protocol.js";
import { toConnectError } from "./grpc-status.js";

/**
 * Sends the request upstream untouched; a failure to reach the upstream (unless the
 * client itself aborted) is answered in the client's protocol.
 */
export async function passThrough(request: ProxyRequest, upstream: Upstream): Promise<ProxyResponse> {
  try {
    return await upstream(request);
  } catch (e) {
    if (request.signal.aborted) throw e;
    return errorResponse(request, toConnectError(e));
  }
}

export const connectPassthrough: ProtocolAdapter = {
  name: "connect-passthrough",
  matches(request, upstreamProtocol) {
    return upstreamProtocol === "connect" && clientProtocol(request) !== undefined;
  },
  handle: passThrough,
};
