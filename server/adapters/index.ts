/**
 * Protocol adapters, tried in order; the first that matches a request handles it.
 */
import type { ProtocolAdapter, UpstreamProtocol } from "../exchange.js";
import { grpcPassthrough } from "./grpc.js";

export interface AdapterOptions {
  /** What the upstream speaks. */
  upstreamProtocol: UpstreamProtocol;
  /** A binary FileDescriptorSet, for Connect JSON to a pure gRPC upstream. */
  descriptors?: Uint8Array;
}

/** The adapters for a gateway configuration, in the order they are tried. */
export function createAdapters(_options: AdapterOptions): ProtocolAdapter[] {
  return [grpcPassthrough];
}
