/**
 * `createTunnelTransport`: a Connect `Transport` to the worker over a MessagePort, with
 * no fetch at all, speaking the Connect protocol (or gRPC, gRPC-Web by `protocol`). All
 * four method kinds work, client and bidi streaming included, since the worker carries
 * the body as it comes. Connect is the default because it costs least here: a unary call
 * is one request body and one answer message with no trailers frame (docs/DECISIONS.md).
 */
import type { Transport } from "@connectrpc/connect";
import { createRpcTransport, type RpcTransportOptions } from "../client/connect-transport.js";
import type { PortLike } from "../port/port-like.js";
import { createPortClient } from "./port-client.js";
import { onControllerChange, openWorkerPort } from "./worker-port.js";

/** Options of {@link createTunnelTransport}. */
export interface TunnelTransportOptions extends RpcTransportOptions {
  /** Base URL of the service; only its path prefix travels (e.g. "https://api.example/" or "/"). */
  baseUrl: string;
  /** Gateway URL (ws, wss, or http(s) resolved against the worker); default: the worker's. */
  gateway?: string;
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
  const httpClient = createPortClient({
    openPort: options.openPort ?? openWorkerPort,
    // An injected port factory knows its own worker; the default follows the controller.
    onWorkerChange: options.openPort ? undefined : onControllerChange,
    gateway: options.gateway,
    deadAfterMs: options.deadAfterMs,
  });
  return createRpcTransport(httpClient, options.baseUrl, { ...options, protocol: options.protocol ?? "connect" });
}
