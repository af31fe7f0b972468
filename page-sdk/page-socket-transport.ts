/**
 * `createPageSocketTransport`: a Connect `Transport` over a tunnel WebSocket that the page
 * opens and owns itself, with no Service Worker and no MessagePort in the way.
 *
 * The name says what differs from the page SDK's other transport: `createTunnelTransport`
 * goes through the worker's *shared* socket (one per gateway for every tab); this one goes
 * over the *page's own* socket (one per transport, so one per tab). It is the runtime
 * neutral tunnel client of `swtunnel/client` (`createTunnelClient` +
 * `createTransportOverTunnel`, web-platform APIs only) running in the page: the same
 * frames, flow control, ping, reconnect with backoff and GOAWAY replay as in the worker.
 * Importing it is what pulls the tunnel client into a page bundle; apps that do not use
 * it do not carry it (esbuild and other ESM bundlers drop it; test/page-sdk checks).
 */
import type { Interceptor, Transport } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import type { BinaryReadOptions, BinaryWriteOptions, JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import type { BackoffOptions } from "../client/backoff.js";
import { createTransportOverTunnel } from "../client/connect-transport.js";
import { createTunnelClient } from "../client/tunnel-client.js";
import type { TunnelClient, TunnelStatus, WebSocketConstructorLike } from "../client/types.js";
import { resolveGatewayUrl } from "../client/gateway-url.js";

/** Options of {@link createPageSocketTransport}. */
export interface PageSocketTransportOptions {
  /** Base URL of the service; only its path prefix travels (e.g. "https://api.example/" or "/"). */
  baseUrl: string;
  /**
   * Gateway URL: ws: or wss:, or http(s): (becomes ws(s):), absolute or relative to the
   * page (`document.baseURI`). Default: the page's origin + `/tunnel`, as the worker's.
   */
  gateway?: string;
  /**
   * RPC protocol spoken through the tunnel; the gateway adapts it to its upstream. Default
   * "grpc", what `createTunnelTransport` speaks (a gRPC upstream then needs no adapter).
   */
  protocol?: "grpc" | "grpc-web" | "connect";
  /** Binary (protobuf) messages rather than JSON; default true. */
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
  /** Longest wait for the socket to open (and for a call to get one); default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Jittered exponential backoff between failed connect attempts (defaults 100 ms doubling to 5 s). */
  reconnect?: BackoffOptions;
  /** Receive window per stream announced to the gateway; default 1 MiB. */
  streamWindow?: number;
  /** Receive window of the socket announced to the gateway; default 8 MiB. */
  connectionWindow?: number;
  /** Called on every status change of the socket (connecting, connected, reconnecting, closed). */
  onStatus?: (status: TunnelStatus) => void;
  /** WebSocket constructor; default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructorLike;
}

/** A Connect `Transport` over the page's own socket, with that socket's tunnel client. */
export interface PageSocketTransport extends Transport {
  /**
   * The tunnel client owning the socket: `status`, `stats()`, and `close()`, which fails the
   * calls in flight with `canceled` and closes the socket for good (the transport is then
   * unusable; create another). The socket opens on the first call, not before.
   */
  readonly tunnel: TunnelClient;
}

/**
 * A Connect `Transport` for all four method kinds whose calls travel over a tunnel
 * WebSocket of this page's own to `options.gateway`, bypassing the Service Worker: the
 * lowest latency the tunnel offers, at the price of one socket per transport (per tab)
 * instead of one shared by every tab, and only for calls made through this transport.
 * Needs no `registerTunnel()`. Lost sockets fail the calls in flight with `unavailable`
 * and the next call reconnects. Throws a TypeError for a gateway URL that is not ws(s) or
 * http(s), or when there is no WebSocket.
 */
export function createPageSocketTransport(options: PageSocketTransportOptions): PageSocketTransport {
  const tunnel = createTunnelClient({
    url: resolveGatewayUrl(options.gateway, (globalThis as { document?: { baseURI: string } }).document?.baseURI),
    WebSocket: options.WebSocket,
    connectTimeoutMs: options.connectTimeoutMs,
    reconnect: options.reconnect,
    streamWindow: options.streamWindow,
    connectionWindow: options.connectionWindow,
    onStatus: options.onStatus,
  });
  const transport = createTransportOverTunnel({
    client: tunnel,
    protocol: options.protocol,
    baseUrl: options.baseUrl,
    useBinaryFormat: options.useBinaryFormat,
    interceptors: options.interceptors,
    jsonOptions: options.jsonOptions,
    binaryOptions: options.binaryOptions,
    acceptCompression: options.acceptCompression,
    sendCompression: options.sendCompression,
    compressMinBytes: options.compressMinBytes,
    readMaxBytes: options.readMaxBytes,
    writeMaxBytes: options.writeMaxBytes,
    defaultTimeoutMs: options.defaultTimeoutMs,
  });
  return { unary: transport.unary.bind(transport), stream: transport.stream.bind(transport), tunnel };
}
