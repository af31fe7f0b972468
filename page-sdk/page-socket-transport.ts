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
import type { Transport } from "@connectrpc/connect";
import { createTransportOverTunnel, type TransportOverTunnelOptions } from "../client/connect-transport.js";
import { resolveGatewayUrl } from "../client/gateway-url.js";
import { createTunnelClient } from "../client/tunnel-client.js";
import type { TunnelClient, TunnelClientOptions } from "../client/types.js";

/**
 * Options of {@link createPageSocketTransport}: the Connect transport's (protocol, codec,
 * interceptors, limits; see `createTransportOverTunnel`) and the tunnel client's (connect
 * timeout, reconnect backoff, windows, `onStatus`, `WebSocket`; see `createTunnelClient`).
 * The protocol defaults to "connect", as `createTunnelTransport`'s: in this stack a
 * Connect call costs less than a gRPC one (no trailers frame, a unary body sent whole);
 * the gateway adapts it to a gRPC upstream.
 */
export interface PageSocketTransportOptions extends Omit<TransportOverTunnelOptions, "client">, Omit<TunnelClientOptions, "url"> {
  /** Base URL of the service; only its path prefix travels (e.g. "https://api.example/" or "/"). */
  baseUrl: string;
  /**
   * Gateway URL: ws: or wss:, or http(s): (becomes ws(s):), absolute or relative to the
   * page (`document.baseURI`). Default: the page's origin + `/tunnel`, as the worker's.
   */
  gateway?: string;
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
  const { gateway, WebSocket, connectTimeoutMs, reconnect, streamWindow, connectionWindow, onStatus, batchFrames, ...connect } = options;
  const tunnel = createTunnelClient({
    url: resolveGatewayUrl(gateway, (globalThis as { document?: { baseURI: string } }).document?.baseURI),
    WebSocket,
    connectTimeoutMs,
    reconnect,
    streamWindow,
    connectionWindow,
    onStatus,
    batchFrames,
  });
  const transport = createTransportOverTunnel({ ...connect, protocol: connect.protocol ?? "connect", client: tunnel });
  return { unary: transport.unary.bind(transport), stream: transport.stream.bind(transport), tunnel };
}
