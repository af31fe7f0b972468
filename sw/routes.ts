/**
 * Route matching for the worker: which fetches go through the tunnel, and to which
 * gateway. Pure; no worker globals.
 */
import { resolveGatewayUrl } from "../client/gateway-url.js";

/** Decides whether a request is carried by a route. */
export type RouteMatcher = string | RegExp | ((url: URL, request: Request) => boolean);

/** One route: requests it matches go through the tunnel to `gateway`. */
export interface TunnelRoute {
  /**
   * A URL prefix (absolute, may be another origin; or a path relative to the worker's
   * origin) matched on whole path segments (`/api` takes `/api` and `/api/x`, not
   * `/apiary`), a RegExp tested against the full URL, or a predicate.
   */
  match: RouteMatcher;
  /**
   * "connect" carries only Connect / gRPC-Web / gRPC content types (and Connect GET
   * requests); "any" (default) carries every matching request.
   */
  contentTypes?: "connect" | "any";
  /** WebSocket URL of the gateway. Default: the worker's origin + `/tunnel`, ws or wss by scheme. */
  gateway?: string;
}

/** A route with its gateway resolved to an absolute ws(s) URL. */
export interface ResolvedRoute {
  test: (url: URL, request: Request) => boolean;
  contentTypes: "connect" | "any";
  gateway: string;
}

export { DEFAULT_TUNNEL_PATH, resolveGatewayUrl } from "../client/gateway-url.js";

/** The default gateway for a worker at `workerUrl`: same origin, `/tunnel`, ws or wss. */
export function defaultGatewayUrl(workerUrl: string): string {
  return resolveGatewayUrl(undefined, workerUrl);
}

/** Compiles routes once, at install time. Throws a TypeError on a malformed route. */
export function resolveRoutes(routes: readonly TunnelRoute[], workerUrl: string): ResolvedRoute[] {
  if (!Array.isArray(routes) || routes.length === 0) {
    throw new TypeError("swtunnel: installTunnel needs at least one route, e.g. { match: 'https://api.example.com/' }");
  }
  return routes.map((route, i) => {
    const contentTypes = route.contentTypes ?? "any";
    if (contentTypes !== "any" && contentTypes !== "connect") {
      throw new TypeError(`swtunnel: route ${i}: contentTypes must be "connect" or "any"`);
    }
    return { test: compileMatcher(route.match, workerUrl, i), contentTypes, gateway: resolveGatewayUrl(route.gateway, workerUrl) };
  });
}

function compileMatcher(match: RouteMatcher, workerUrl: string, index: number): ResolvedRoute["test"] {
  if (typeof match === "string") {
    const prefix = new URL(match, workerUrl).href;
    return (url) => matchesPrefix(url.href, prefix);
  }
  if (match instanceof RegExp) return (url) => match.test(url.href);
  if (typeof match === "function") return match;
  throw new TypeError(`swtunnel: route ${index}: match must be a URL prefix string, a RegExp or a function`);
}

/**
 * True when `href` starts with `prefix` on a segment boundary: the prefix ends with "/",
 * or the URL ends there or goes on with "/", "?" or "#".
 */
export function matchesPrefix(href: string, prefix: string): boolean {
  if (!href.startsWith(prefix)) return false;
  if (href.length === prefix.length || prefix.endsWith("/")) return true;
  const next = href[prefix.length];
  return next === "/" || next === "?" || next === "#";
}

/** Content types of Connect (unary and streaming), gRPC-Web and gRPC. */
const RPC_CONTENT_TYPE =
  /^application\/(?:(?:connect\+|grpc-web\+|grpc-web-text\+|grpc\+)?(?:proto|json)|grpc|grpc-web|grpc-web-text)(?:\s*;.*)?$/i;

/** True when the content type is one an RPC protocol uses. */
export function isRpcContentType(contentType: string | null): boolean {
  return contentType !== null && RPC_CONTENT_TYPE.test(contentType.trim());
}

/** True for a Connect GET request (unary, side-effect free): `?connect=v1&encoding=...&message=...`. */
export function isConnectGet(url: URL, method: string): boolean {
  return method === "GET" && url.searchParams.get("connect") === "v1" && url.searchParams.has("message");
}

/** The first route that carries `request`, or undefined (the worker lets it pass). */
export function findRoute(routes: readonly ResolvedRoute[], request: Request, url = new URL(request.url)): ResolvedRoute | undefined {
  if (isNavigation(request)) return undefined;
  for (const route of routes) {
    if (!route.test(url, request)) continue;
    if (route.contentTypes === "connect" && !carriesRpc(request, url)) continue;
    return route;
  }
  return undefined;
}

/** Destinations of documents: a link or form on any site may load one, so none is an RPC. */
const DOCUMENT_DESTINATIONS = new Set(["document", "iframe", "frame", "embed", "object"]);

/**
 * True for a navigation or a document load. The worker never carries these, whatever the
 * routes say: a cross-site link to a Connect GET URL must not run a call with the user's tunnel.
 */
export function isNavigation(request: Request): boolean {
  return request.mode === "navigate" || DOCUMENT_DESTINATIONS.has(request.destination);
}

/** The route whose prefix matches a CORS preflight (OPTIONS), ignoring content types. */
export function findPreflightRoute(
  routes: readonly ResolvedRoute[],
  request: Request,
  url = new URL(request.url),
): ResolvedRoute | undefined {
  return routes.find((route) => route.test(url, request));
}

function carriesRpc(request: Request, url: URL): boolean {
  return isRpcContentType(request.headers.get("content-type")) || isConnectGet(url, request.method);
}
