/**
 * `swtunnel/page`: the page side. `registerTunnel()` installs the worker and reports its
 * status; `createTunnelTransport()` is a Connect transport over the worker with client
 * and bidi streaming; `tunnelFetch` is the fetch fast path `registerTunnel()` installs on
 * `globalThis.fetch` (or pass it as a connect-web transport's `fetch` option).
 * `createPageSocketTransport()` skips the worker: a Connect transport over a tunnel socket
 * of the page's own (lowest latency, one socket per tab; see README "Choosing a socket").
 * @module
 */
export { registerTunnel, workerScriptUrl, TunnelHandle, TunnelStatusEvent, type RegisterTunnelOptions } from "./register.js";
export { createTunnelTransport, type TunnelTransportOptions } from "./transport.js";
export { tunnelFetch } from "./fetch.js";
export { createPageSocketTransport, type PageSocketTransport, type PageSocketTransportOptions } from "./page-socket-transport.js";
export { createPortClient, type PortClientOptions } from "./port-client.js";
export type { StatusMessage, TunnelCounters, WorkerTunnelStatus } from "../port/status.js";
export type { BackoffOptions, TunnelClient, TunnelStatus } from "../client/index.js";
