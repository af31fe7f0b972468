/**
 * The worker runtime as one object: fetch handling, the MessagePort server, status.
 * `installTunnel` wires it to a worker's events; `createTunnelHandler` exposes it to
 * Workbox. Takes the tunnel client factory as an option so it runs with a stand-in.
 */
import { ClientWatch } from "./client-watch.js";
import { FetchHandler, type FallbackMode } from "./fetch-handler.js";
import { TunnelPool } from "./pool.js";
import { CLAIM_MESSAGE, CONNECT_MESSAGE, KEEPALIVE_MESSAGE, PING_MESSAGE } from "../port/messages.js";
import { servePort } from "./port-server.js";
import { resolveGatewayUrl, resolveRoutes, type TunnelRoute } from "./routes.js";
import type { ExtendableMessageEventLike, FetchEventLike, WorkerScopeLike } from "./scope.js";
import { broadcastPoster, StatusHub, type StatusMessage } from "./status.js";
import type { TunnelClientFactory } from "./types.js";

/** Options of the worker runtime. */
export interface TunnelWorkerOptions {
  /** Requests to carry; the first matching route wins. Unmatched requests are left alone. */
  routes: TunnelRoute[];
  /**
   * When the gateway cannot be reached: "network" (default) sends the request as if
   * there were no worker; "error" answers at once with a Connect `unavailable` error.
   */
  fallback?: FallbackMode;
  /** Gateway for page-sdk calls that name none. Default: the first route's gateway. */
  defaultGateway?: string;
  /** Creates the tunnel client of one gateway. */
  createClient: TunnelClientFactory;
  /** Publishes status messages; default: the `swtunnel.status` BroadcastChannel. */
  postStatus?: (message: StatusMessage) => void;
}

/** A running worker runtime. */
export interface TunnelWorker {
  /** Answers the fetch event if a route matches; returns whether it did. */
  handleFetch(event: FetchEventLike): boolean;
  /** Handles `swtunnel.connect`, `swtunnel.ping`, `swtunnel.keepalive` and `swtunnel.claim` messages; returns whether it did. */
  handleMessage(event: ExtendableMessageEventLike): boolean;
  /** True when a request would be carried (or its preflight answered). */
  matches(request: Request): boolean;
  /** Answers a request, or undefined when no route carries it. */
  handle(request: Request, signal?: AbortSignal): Promise<Response> | undefined;
  /** Current status and counters. */
  status(): StatusMessage;
  /** Closes every tunnel socket. */
  close(): void;
}

export function createTunnelWorker(scope: WorkerScopeLike, options: TunnelWorkerOptions): TunnelWorker {
  const workerUrl = scope.location.href;
  const routes = resolveRoutes(options.routes, workerUrl);
  const fallback = options.fallback ?? "network";
  if (fallback !== "network" && fallback !== "error") {
    throw new TypeError(`swtunnel: fallback must be "network" or "error", not ${JSON.stringify(fallback)}`);
  }
  const hub = new StatusHub(options.postStatus ?? broadcastPoster());
  const pool = new TunnelPool(options.createClient, hub);
  const fetchHandler = new FetchHandler({
    routes,
    fallback,
    pageOrigin: scope.location.origin,
    pool,
    hub,
    fetch: (request) => scope.fetch(request),
  });
  const clientWatch = new ClientWatch(scope.clients);
  const defaultGateway = options.defaultGateway ? resolveGatewayUrl(options.defaultGateway, workerUrl) : routes[0]!.gateway;

  return {
    handleFetch(event) {
      let done!: () => void;
      const streaming = new Promise<void>((resolve) => (done = resolve));
      // The page going away cancels its call (its abort reaches no worker in Chromium/Firefox).
      const pageGone = new AbortController();
      let unwatch = (): void => {};
      let finished = false;
      const response = fetchHandler.handle(event.request, pageGone.signal, () => {
        finished = true;
        unwatch();
        done();
      });
      if (!response) return false;
      if (!finished) unwatch = clientWatch.watch(event.clientId, () => pageGone.abort());
      event.respondWith(response);
      // Keeps the worker alive while the response streams, as far as the engine allows
      // (Firefox: 30 s more after the last page event; docs/DECISIONS.md, engine limits).
      event.waitUntil(streaming);
      return true;
    },
    handleMessage(event) {
      const data = event.data as { type?: unknown } | null;
      if (typeof data !== "object" || data === null) return false;
      if (data.type === CONNECT_MESSAGE) {
        const port = event.ports[0];
        if (!port) return false;
        // Keeps the worker alive while the port's calls run.
        const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
        event.waitUntil(servePort(port, { pool, hub, workerUrl, defaultGateway, fetchHandler, locks }));
        return true;
      }
      if (data.type === CLAIM_MESSAGE) {
        event.waitUntil(scope.clients.claim());
        return true;
      }
      // The message event itself is what keeps the worker alive; nothing to answer.
      if (data.type === KEEPALIVE_MESSAGE) return true;
      if (data.type === PING_MESSAGE) {
        const reply = hub.snapshot();
        const port = event.ports[0];
        if (port) port.postMessage(reply);
        else event.source?.postMessage(reply, []);
        return true;
      }
      return false;
    },
    matches: (request) => fetchHandler.matches(request),
    handle: (request, signal) => fetchHandler.handle(request, signal),
    status: () => hub.snapshot(),
    close: () => pool.close(),
  };
}
