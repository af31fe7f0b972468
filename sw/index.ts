/**
 * The Service Worker runtime with the real tunnel client wired in.
 * @module
 */
import { createTunnelClient } from "../client/tunnel-client.js";
import type { TunnelClientOptions } from "../client/types.js";
import { installTunnelWith, type InstallOptions } from "./install.js";
import type { WorkerScopeLike } from "./scope.js";
import type { TunnelWorker } from "./tunnel-worker.js";
import type { TunnelClientFactory } from "./types.js";
import { createTunnelHandlerWith, type TunnelHandler } from "./workbox.js";

/** Tunnel client settings applied to every gateway's client. */
export type TunnelClientSettings = Omit<TunnelClientOptions, "url" | "onStatus">;

/** Options of {@link installTunnel} and {@link createTunnelHandler}. */
export type InstallTunnelOptions = Omit<InstallOptions, "createClient"> & {
  /** Settings of the tunnel clients (timeouts, reconnect backoff, windows). */
  client?: TunnelClientSettings;
  /** Replaces the tunnel client (tests). */
  createClient?: TunnelClientFactory;
};

function factory(options: InstallTunnelOptions): TunnelClientFactory {
  return options.createClient ?? (({ url, onStatus }) => createTunnelClient({ ...options.client, url, onStatus }));
}

/**
 * Installs swtunnel in a hand-written Service Worker:
 *
 *   installTunnel(self, { routes: [{ match: "https://api.example.com/" }], fallback: "network" });
 *
 * Matching fetches are carried over one WebSocket per gateway, shared by all pages of
 * the scope; page-sdk transports are served over MessagePorts; status is published on
 * the `swtunnel.status` BroadcastChannel.
 */
export function installTunnel(self: WorkerScopeLike, options: InstallTunnelOptions): TunnelWorker {
  return installTunnelWith(self, { ...options, createClient: factory(options) });
}

/**
 * A Workbox route carrying matching requests through the tunnel:
 *
 *   const tunnel = createTunnelHandler({ routes: [{ match: "https://api.example.com/" }] });
 *   registerRoute(tunnel.match, tunnel.handler);
 */
export function createTunnelHandler(options: InstallTunnelOptions & { scope?: WorkerScopeLike }): TunnelHandler {
  return createTunnelHandlerWith({ ...options, createClient: factory(options) });
}

export type { TunnelWorker } from "./tunnel-worker.js";
export type { TunnelHandler, WorkboxHandlerContext, WorkboxMatchContext } from "./workbox.js";
export type { TunnelRoute, RouteMatcher } from "./routes.js";
export type { FallbackMode } from "./fetch-handler.js";
export type { StatusMessage, TunnelCounters, WorkerTunnelStatus } from "../port/status.js";
export { STATUS_CHANNEL } from "../port/status.js";
export type { WorkerScopeLike, FetchEventLike, ExtendableEventLike, ExtendableMessageEventLike } from "./scope.js";
