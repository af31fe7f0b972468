/**
 * A Workbox route for apps that already have a Workbox worker (one worker per scope):
 *
 *   const tunnel = createTunnelHandler({ routes: [{ match: "https://api.example.com/" }] });
 *   registerRoute(tunnel.match, tunnel.handler);
 *   self.addEventListener("message", (e) => tunnel.worker.handleMessage(e)); // page-sdk transport
 *
 * No Workbox import: the shapes below are what workbox-routing passes.
 */
import type { FetchEventLike, WorkerScopeLike } from "./scope.js";
import { createTunnelWorker, type TunnelWorker, type TunnelWorkerOptions } from "./tunnel-worker.js";

/** What workbox-routing passes to a match callback. */
export interface WorkboxMatchContext {
  url: URL;
  request: Request;
  event?: unknown;
}

/** What workbox-routing passes to a handler. */
export interface WorkboxHandlerContext {
  request: Request;
  event?: FetchEventLike | unknown;
  url?: URL;
}

/** A Workbox route for the tunnel. */
export interface TunnelHandler {
  match: (context: WorkboxMatchContext) => boolean;
  handler: (context: WorkboxHandlerContext) => Promise<Response>;
  /** The runtime behind the route: status, and `handleMessage` for page-sdk ports. */
  worker: TunnelWorker;
}

/** Builds the Workbox route. `scope` defaults to the worker's global `self`. */
export function createTunnelHandlerWith(options: TunnelWorkerOptions & { scope?: WorkerScopeLike }): TunnelHandler {
  const scope = options.scope ?? (globalThis as unknown as WorkerScopeLike);
  const worker = createTunnelWorker(scope, options);
  return {
    match: ({ request }) => worker.matches(request),
    handler: ({ request }) => worker.handle(request) ?? scope.fetch(request),
    worker,
  };
}
