/**
 * `swtunnel/page`: the page side. `registerTunnel()` installs the worker and reports its
 * status; `createTunnelTransport()` is a Connect transport over the worker with client
 * and bidi streaming; `tunnelFetch` is the fetch fast path `registerTunnel()` installs on
 * `globalThis.fetch` (or pass it as a connect-web transport's `fetch` option).
 * @module
 */
export { registerTunnel, workerScriptUrl, TunnelHandle, TunnelStatusEvent, type RegisterTunnelOptions } from "./register.js";
export { createTunnelTransport, type TunnelTransportOptions } from "./transport.js";
export { tunnelFetch } from "./fetch.js";
export { createPortClient, type PortClientOptions } from "./port-client.js";
export type { StatusMessage, TunnelCounters, WorkerTunnelStatus } from "../port/status.js";
