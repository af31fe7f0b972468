/**
 * The worker's core: turns one matched fetch into one tunnel stream and the stream back
 * into a streaming Response. Worker globals come in as options, so this runs in Node
 * tests with a stand-in tunnel client.
 */
import { Code } from "../client/code.js";
import { TunnelError, isRpcError, toTunnelError } from "../client/errors.js";
import { iterableToStream, requestBody } from "./body.js";
import { gatewayUnreachableError, rpcErrorResponse, rpcFlavor } from "./error-response.js";
import { corsContext, preflightResponse, responseHeaders, tunnelRequestHeaders } from "./headers.js";
import type { TunnelPool } from "./pool.js";
import { findPreflightRoute, findRoute, isConnectGet, type ResolvedRoute } from "./routes.js";
import type { StatusHub } from "./status.js";
import type { TunnelClientLike } from "./types.js";
import { traceHook } from "../protocol/trace.js";

/** What to do with a matched call when the gateway cannot be reached. */
export type FallbackMode = "network" | "error";

export interface FetchHandlerOptions {
  routes: ResolvedRoute[];
  fallback: FallbackMode;
  /** Origin of the pages the worker controls (its own origin). */
  pageOrigin: string;
  pool: TunnelPool;
  hub: StatusHub;
  /** The network fetch used for fallback "network". */
  fetch: (request: Request) => Promise<Response>;
}

/** Statuses whose Response must have no body. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export class FetchHandler {
  constructor(private readonly options: FetchHandlerOptions) {}

  /** True when the worker answers this request (carries it, or answers its preflight). */
  matches(request: Request): boolean {
    const url = new URL(request.url);
    if (isPreflight(request)) return findPreflightRoute(this.options.routes, request, url) !== undefined;
    return findRoute(this.options.routes, request, url) !== undefined;
  }

  /**
   * Answers a request, or returns undefined when no route carries it (the caller lets
   * the browser handle it as if there were no worker). `onDone` is called once the call
   * is over, its response body included (for `event.waitUntil`).
   */
  handle(request: Request, signal?: AbortSignal, onDone?: () => void): Promise<Response> | undefined {
    const url = new URL(request.url);
    if (isPreflight(request)) {
      if (!findPreflightRoute(this.options.routes, request, url)) return undefined;
      onDone?.();
      return Promise.resolve(preflightResponse(request, this.options.pageOrigin));
    }
    const route = findRoute(this.options.routes, request, url);
    if (!route) return undefined;
    return this.carry(request, url, route, signal, onDone);
  }

  private async carry(request: Request, url: URL, route: ResolvedRoute, signal?: AbortSignal, onDone?: () => void): Promise<Response> {
    traceHook?.("w.in");
    const { pool, hub, fallback, pageOrigin } = this.options;
    const cors = corsContext(request, url, pageOrigin);
    const contentType = request.headers.get("content-type");
    const flavor = rpcFlavor(contentType, isConnectGet(url, request.method));
    // The network fallback replays the request, so keep an untouched copy.
    const replay = fallback === "network" ? request.clone() : undefined;
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    for (const s of [request.signal, signal]) {
      if (!s) continue;
      if (s.aborted) abort.abort();
      else s.addEventListener("abort", onAbort, { once: true });
    }
    let client: TunnelClientLike | undefined;
    hub.count("active");
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      hub.count("active", -1);
      onDone?.();
    };
    try {
      // Buffered: a page's fetch body is complete anyway (unmodified Connect clients never
      // stream uploads), and a buffered body can be resent if a draining gateway did not
      // process the stream (GOAWAY retry) or over the network (fallback).
      const body = await requestBody(request, { buffer: true });
      client = pool.get(route.gateway);
      const res = await client.request({
        method: request.method,
        path: url.pathname + url.search,
        headers: tunnelRequestHeaders(request.headers),
        body,
        signal: abort.signal,
      });
      hub.count("carried");
      if (res.status < 200 || res.status > 599) {
        abort.abort();
        end();
        return rpcErrorResponse(
          flavor,
          contentType,
          new TunnelError(`swtunnel: upstream answered HTTP ${res.status}`, Code.Internal),
          cors,
        );
      }
      const headers = responseHeaders(res.headers, cors);
      if (NULL_BODY_STATUS.has(res.status) || request.method === "HEAD") {
        void drain(res.body).finally(end);
        return new Response(null, { status: res.status, headers });
      }
      const stream = iterableToStream(res.body, { flavor, onCancel: () => abort.abort(), onEnd: end });
      traceHook?.("w.post");
      return new Response(stream, { status: res.status, headers });
    } catch (err) {
      end();
      if (client && isGatewayUnreachable(err, client)) {
        hub.count("fallbacks");
        hub.setStatus(route.gateway, "fallback");
        if (replay) return this.options.fetch(replay);
        return rpcErrorResponse(flavor, contentType, gatewayUnreachableError(route.gateway, err), cors);
      }
      hub.count("failed");
      return rpcErrorResponse(flavor, contentType, toTunnelError(err), cors);
    } finally {
      for (const s of [request.signal, signal]) s?.removeEventListener("abort", onAbort);
    }
  }
}

function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("access-control-request-method");
}

/**
 * True when a call failed because no socket to the gateway could be had, as opposed to
 * a failure of an accepted stream (which must not be replayed over the network).
 */
export function isGatewayUnreachable(err: unknown, client: TunnelClientLike): boolean {
  // The client reports a lost socket under a call as "tunnel socket lost": that call may
  // have reached the backend, so it must not be replayed.
  return isRpcError(err) && err.code === Code.Unavailable && client.status !== "connected" && !/^tunnel socket lost/.test(err.rawMessage);
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  try {
    for await (const _ of body);
  } catch {
    // The head was all the page needed.
  }
}
