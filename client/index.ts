/**
 * The tunnel client, usable in a Service Worker and in Node (web-platform APIs only).
 * @module
 */
export { createTunnelClient } from "./tunnel-client.js";
export { createUniversalClient } from "./connect-client.js";
export { createTransportOverTunnel, type TransportOverTunnelOptions } from "./connect-transport.js";
export { connectCodeOf } from "./errors.js";
export type { BackoffOptions } from "./backoff.js";
export type {
  HeaderList,
  TunnelClient,
  TunnelClientOptions,
  TunnelRequest,
  TunnelResponse,
  TunnelStats,
  TunnelStatus,
  WebSocketConstructorLike,
  WebSocketLike,
} from "./types.js";
