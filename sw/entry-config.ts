/**
 * Configuration of the ready-made worker (dist/browser/sw.js), read from its own script
 * URL so an app configures it at registration without building a worker:
 *
 *   navigator.serviceWorker.register("/sw.js?gateway=wss://gw.example/tunnel&match=https://api.example/&fallback=network")
 *
 * `match` may repeat; with none, every same-origin Connect / gRPC-Web call is carried.
 */
import type { FallbackMode } from "./fetch-handler.js";
import type { TunnelRoute } from "./routes.js";

export interface EntryConfig {
  routes: TunnelRoute[];
  fallback: FallbackMode;
}

/** Parses the worker's script URL. Throws a TypeError naming a bad parameter. */
export function parseEntryConfig(scriptUrl: string): EntryConfig {
  const url = new URL(scriptUrl);
  const q = url.searchParams;
  const gateway = q.get("gateway") ?? undefined;
  const fallback = (q.get("fallback") ?? "network") as FallbackMode;
  if (fallback !== "network" && fallback !== "error") {
    throw new TypeError(`swtunnel sw.js: fallback=${fallback} is not "network" or "error"`);
  }
  const contentTypes = q.get("contentTypes") === "any" ? "any" : "connect";
  const matches = q.getAll("match").filter((m) => m !== "");
  const routes: TunnelRoute[] =
    matches.length > 0
      ? matches.map((match) => ({ match, gateway, contentTypes }))
      : [{ match: `${url.origin}/`, gateway, contentTypes: "connect" }];
  return { routes, fallback };
}
