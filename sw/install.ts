/**
 * Wires the worker runtime to a Service Worker's events.
 */
import type { WorkerScopeLike } from "./scope.js";
import { createTunnelWorker, type TunnelWorker, type TunnelWorkerOptions } from "./tunnel-worker.js";

/** Options of {@link installTunnelWith}. */
export interface InstallOptions extends TunnelWorkerOptions {
  /**
   * Activate a new worker at once and take control of open pages, so the first visit is
   * already carried (default true). Turn off when the app manages worker updates itself.
   */
  claim?: boolean;
}

/**
 * Installs the tunnel in a Service Worker: answers matching fetches through the tunnel,
 * serves page-sdk MessagePorts and status pings. Call it once, at the top level of the
 * worker script (event listeners must be added during the script's first evaluation).
 */
export function installTunnelWith(scope: WorkerScopeLike, options: InstallOptions): TunnelWorker {
  const worker = createTunnelWorker(scope, options);
  scope.addEventListener("fetch", (event) => {
    worker.handleFetch(event);
  });
  scope.addEventListener("message", (event) => {
    worker.handleMessage(event);
  });
  if (options.claim ?? true) {
    scope.addEventListener("install", (event) => {
      if (scope.skipWaiting) event.waitUntil(scope.skipWaiting());
    });
    scope.addEventListener("activate", (event) => {
      event.waitUntil(scope.clients.claim());
    });
  }
  return worker;
}
