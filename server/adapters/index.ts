/**
 * Protocol adapters, tried in order; the first that matches a request handles it. A
 * request no adapter matches is not an RPC the gateway can carry (the core answers 415).
 */
import type { ProtocolAdapter, UpstreamProtocol } from "../exchange.js";
import { createConnectStreamAdapter } from "./connect-stream.js";
import { createConnectUnaryAdapter } from "./connect-unary.js";
import { defaultMaxMessageBytes, type AdapterContext } from "./context.js";
import { grpcPassthrough } from "./grpc.js";
import { createGrpcWebAdapter } from "./grpc-web.js";
import { connectPassthrough } from "./passthrough.js";
import { createTranscoder } from "./transcode.js";

export interface AdapterOptions {
  /** What the upstream speaks. */
  upstreamProtocol: UpstreamProtocol;
  /**
   * A binary FileDescriptorSet (`buf build -o FILE.binpb`), for Connect and gRPC-Web JSON
   * clients in front of a pure gRPC upstream. Without it those calls fail with
   * `failed_precondition` and a message saying so.
   */
  descriptors?: Uint8Array;
  /** Largest message read whole (unary bodies, transcoded messages). Default 4 MiB. */
  maxMessageBytes?: number;
}

/**
 * The adapters for a gateway configuration, in the order they are tried. Throws when
 * `descriptors` is not a readable FileDescriptorSet.
 */
export function createAdapters(options: AdapterOptions): ProtocolAdapter[] {
  if (options.upstreamProtocol === "connect") return [connectPassthrough];
  const ctx: AdapterContext = {
    maxMessageBytes: options.maxMessageBytes ?? defaultMaxMessageBytes,
    transcoder: options.descriptors ? createTranscoder(options.descriptors) : undefined,
  };
  return [grpcPassthrough, createGrpcWebAdapter(ctx), createConnectStreamAdapter(ctx), createConnectUnaryAdapter(ctx)];
}

export { connectPassthrough } from "./passthrough.js";
export { grpcPassthrough } from "./grpc.js";
export { createGrpcWebAdapter } from "./grpc-web.js";
export { createConnectStreamAdapter } from "./connect-stream.js";
export { createConnectUnaryAdapter } from "./connect-unary.js";
export { createTranscoder, type Transcoder } from "./transcode.js";
export { clientProtocol, errorResponse, type ClientProtocol } from "./client-protocol.js";
export { noDescriptorsMessage } from "./messages.js";
export type { AdapterContext } from "./context.js";
