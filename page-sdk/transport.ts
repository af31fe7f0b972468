/**
 * `createTunnelTransport`: a Connect `Transport` speaking gRPC (application/grpc+proto)
 * to the worker over a MessagePort, with no fetch at all. All four method kinds work,
 * client and bidi streaming included, since the worker carries the body as it comes.
 */
import type { Interceptor, Transport } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import type { BinaryReadOptions, BinaryWriteOptions, JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import type { PortLike } from "../port/port-like.js";
import { createPortClient } from "./port-client.js";
import { onControllerChange, openWorkerPort } from "./worker-port.js";

/** Options of {@link createTunnelTransport}. */
export interface TunnelTransportOptions {
  /** Base URL of the service; only its path prefix travels (e.g. "https://api.example/" or "/"). */
  baseUrl: string;
  /** Gateway URL (ws, wss, or http(s) resolved against the worker); default: the worker's. */
  gateway?: string;
  /** gRPC with JSON messages (application/grpc+json) instead of binary; default binary. */
  useBinaryFormat?: boolean;
  interceptors?: Interceptor[];
  jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>;
  binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>;
  acceptCompression?: Compression[];
  sendCompression?: Compression | null;
  compressMinBytes?: number;
  readMaxBytes?: number;
  writeMaxBytes?: number;
  defaultTimeoutMs?: number;
  /**
   * Opens a port to the worker; default: a MessageChannel posted to the page's controller.
   * The transport keeps one port for all its calls and opens another only when that one
   * went idle or died.
   */
  openPort?: () => Promise<PortLike>;
  /** Fail a call after this long without a message from the worker (it was stopped). */
  deadAfterMs?: number;
}

export function createTunnelTransport(options: TunnelTransportOptions): Transport {
  return createTransport({
    baseUrl: options.baseUrl,
    httpClient: createPortClient({
      openPort: options.openPort ?? openWorkerPort,
      // An injected port factory knows its own worker; the default follows the controller.
      onWorkerChange: options.openPort ? undefined : onControllerChange,
      gateway: options.gateway,
      deadAfterMs: options.deadAfterMs,
    }),
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
  });
}
