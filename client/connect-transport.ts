/**
 * A Connect-ES `Transport` over the tunnel, for Node (and any code that holds a
 * TunnelClient). It is Connect-ES's own protocol code (`createTransport` of
 * `@connectrpc/connect/protocol-grpc`, `-grpc-web`, `-connect`) with the tunnel as its
 * HTTP client, so it behaves exactly like the transports of `@connectrpc/connect-node`.
 * Not used by the worker bundle.
 */
import type { Interceptor, Transport } from "@connectrpc/connect";
import type { Compression, UniversalClientFn } from "@connectrpc/connect/protocol";
import type { BinaryReadOptions, BinaryWriteOptions, JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import { createTransport as createConnectProtocolTransport } from "@connectrpc/connect/protocol-connect";
import { createTransport as createGrpcProtocolTransport } from "@connectrpc/connect/protocol-grpc";
import { createTransport as createGrpcWebProtocolTransport } from "@connectrpc/connect/protocol-grpc-web";
import { createUniversalClient } from "./connect-client.js";
import type { TunnelClient } from "./types.js";

/** The RPC side of the tunnel's transports: protocol, codec, interceptors, limits. */
export interface RpcTransportOptions {
  /** RPC protocol spoken through the tunnel; the gateway adapts it to the upstream (default: see each transport). */
  protocol?: "grpc" | "grpc-web" | "connect";
  /** Binary (protobuf) messages rather than JSON. Default true. */
  useBinaryFormat?: boolean;
  interceptors?: Interceptor[];
  jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>;
  binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>;
  acceptCompression?: Compression[];
  sendCompression?: Compression | null;
  /** Default 1024. */
  compressMinBytes?: number;
  /** Largest message read; default 4 GiB - 1 (the gateway enforces its own limit). */
  readMaxBytes?: number;
  /** Largest message written; default 4 GiB - 1. */
  writeMaxBytes?: number;
  defaultTimeoutMs?: number;
}

/** Options of {@link createTransportOverTunnel}; `protocol` defaults to "grpc". */
export interface TransportOverTunnelOptions extends RpcTransportOptions {
  /** The tunnel client carrying the calls. */
  client: TunnelClient;
  /** Path prefix of the service URLs; the origin is ignored (the gateway has one upstream). Default "/". */
  baseUrl?: string;
}

/** A Connect `Transport` whose calls travel through `options.client`. */
export function createTransportOverTunnel(options: TransportOverTunnelOptions): Transport {
  const base = new URL(options.baseUrl ?? "/", "http://tunnel.invalid");
  return createRpcTransport(createUniversalClient(options.client), base.href, { ...options, protocol: options.protocol ?? "grpc" });
}

/**
 * Connect-ES's transport for `options.protocol` (default "connect") over `httpClient`,
 * with the tunnel's defaults: binary, no compression, no message limits of its own.
 */
export function createRpcTransport(httpClient: UniversalClientFn, baseUrl: string, options: RpcTransportOptions): Transport {
  const common = {
    httpClient,
    baseUrl,
    useBinaryFormat: options.useBinaryFormat ?? true,
    interceptors: options.interceptors ?? [],
    jsonOptions: options.jsonOptions,
    binaryOptions: options.binaryOptions,
    acceptCompression: options.acceptCompression ?? [],
    sendCompression: options.sendCompression ?? null,
    compressMinBytes: options.compressMinBytes ?? 1024,
    readMaxBytes: options.readMaxBytes ?? 0xffffffff,
    writeMaxBytes: options.writeMaxBytes ?? 0xffffffff,
    defaultTimeoutMs: options.defaultTimeoutMs,
  };
  switch (options.protocol ?? "connect") {
    case "grpc":
      return createGrpcProtocolTransport(common);
    case "grpc-web":
      return createGrpcWebProtocolTransport(common);
    case "connect":
      return createConnectProtocolTransport(common);
  }
}
