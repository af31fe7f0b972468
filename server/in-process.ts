/**
 * In-process mode for Node backends: the gateway's tunnel endpoint mounted on the app's own
 * `http.Server`, each tunnel stream dispatched to a connect-node router's universal handler
 * in this process (server/upstream/in-process.ts) instead of an HTTP/2 request to an
 * upstream. The sockets and streams are the gateway's own (server/connection.ts,
 * server/stream.ts), so admission, limits, deadlines, metrics and drain are the same.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { createConnectRouter, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { Registry } from "prom-client";
import { createAdapters } from "./adapters/index.js";
import { ownOrigin } from "./admission.js";
import { resolveClientAddress, trustList } from "./client-address.js";
import { TunnelSockets, refuse } from "./tunnel-sockets.js";
import type { GatewayContext } from "./context.js";
import { createLogger } from "./log.js";
import { GatewayMetrics } from "./metrics.js";
import { OptionsError, resolveOptions, type GatewayOptions, type ResolvedOptions } from "./options.js";
import { inProcessUpstreams } from "./upstream/in-process.js";

/** Gateway options that only a standalone gateway (its listener, its upstream) has. */
type StandaloneOnly =
  | "upstream"
  | "upstreamProtocol"
  | "descriptors"
  | "upstreamCa"
  | "upstreamInsecure"
  | "upstreamPingIntervalMs"
  | "host"
  | "port"
  | "tlsCert"
  | "tlsKey"
  | "adminListen"
  | "upgradeTimeoutMs";

/** Options of {@link createTunnelEndpoint}: the gateway's, less its listener and upstream, plus the services. */
export interface TunnelEndpointOptions extends Omit<GatewayOptions, StandaloneOnly> {
  /** The services, as `connectNodeAdapter({ routes })` takes them. Give this or `handlers`. */
  routes?: (router: ConnectRouter) => void;
  /** Ready universal handlers (`createConnectRouter().handlers`). Give this or `routes`. */
  handlers?: readonly UniversalHandler[];
  /**
   * Options of the router built from `routes` (interceptors, readMaxBytes, ...). As with
   * connectNodeAdapter, `acceptCompression` defaults to gzip and brotli.
   */
  router?: ConnectRouterOptions;
  /**
   * Context values for each call (the handler's `ctx.values`), from the upgrade request of
   * the call's socket: its cookies, the user `authenticate` admitted. Runs once per call,
   * as connectNodeAdapter's `contextValues` runs once per request.
   */
  contextValues?: (upgrade: IncomingMessage) => ContextValues;
}

/** Counters for tests and health checks. */
export interface TunnelEndpointStats {
  sockets: number;
  streamsActive: number;
  streamsTotal: number;
  draining: boolean;
  /** Bytes queued unwritten over all tunnel sockets. */
  bufferedBytes: number;
}

/**
 * Something that emits HTTP/1.1 upgrades: `http.Server`, `https.Server`,
 * `http2.createSecureServer({ allowHTTP1: true })`. (A cleartext `http2.createServer` speaks
 * no HTTP/1.1, so it can carry no WebSocket.)
 */
export interface UpgradeSource {
  on(event: "upgrade", listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  off(event: "upgrade", listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  listenerCount(event: "upgrade"): number;
}

/** A tunnel endpoint the app mounts on its own server. */
export interface TunnelEndpoint {
  /** The upgrade path (`options.path`, default `/tunnel`). */
  readonly path: string;
  readonly options: ResolvedOptions;
  /** The endpoint's own prom-client registry (the gateway's metric names). */
  readonly metrics: Registry;
  /**
   * Takes an upgrade request whose path is the tunnel path and returns true (refused ones
   * are answered with an HTTP status); returns false, touching nothing, for another path.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Listens for `server`'s upgrades at the tunnel path. Upgrades to other paths are left to
   * the server's other `upgrade` listeners, or answered 400 when there are none. Returns
   * the detach function; `close()` detaches too.
   */
  attach(server: UpgradeSource): () => void;
  stats(): TunnelEndpointStats;
  /** Starts draining (GOAWAY on every socket, new upgrades 503); resolves when every socket closed. */
  drain(): Promise<void>;
  /**
   * Drains for at most `drainTimeoutMs` (default: the option), then closes the remaining
   * sockets and detaches. The app's server is left running.
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

/** Creates a tunnel endpoint serving `options.routes` (or `options.handlers`) in this process. */
export function createTunnelEndpoint(options: TunnelEndpointOptions): TunnelEndpoint {
  const { routes, handlers: given, router: routerOptions, contextValues, ...gatewayOptions } = options;
  if ((routes === undefined) === (given === undefined)) {
    throw new OptionsError("createTunnelEndpoint needs routes (as connectNodeAdapter takes them) or handlers, exactly one of the two");
  }
  if (given && routerOptions) {
    throw new OptionsError("router options apply to routes; with ready handlers, pass them to createConnectRouter yourself");
  }
  let handlers = given;
  if (routes) {
    const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], ...routerOptions });
    routes(router);
    handlers = router.handlers;
  }
  const o = resolveOptions({ ...gatewayOptions, upstream: "http://in-process.invalid", upstreamProtocol: "connect" });
  const log = o.logger ?? createLogger(o.logLevel, o.logFormat);
  const upstreams = inProcessUpstreams(handlers ?? []);
  const metrics = new GatewayMetrics({ services: o.allowServices });
  const trusted = trustList(o.trustProxy);
  const ctx: GatewayContext = {
    options: o,
    // Connect's handlers speak Connect, gRPC and gRPC-Web: every call passes through untouched.
    adapters: createAdapters({ upstreamProtocol: "connect" }),
    upstream: upstreams(),
    metrics,
    log,
  };
  const sockets = new TunnelSockets(o, metrics, log);
  const detachers = new Set<() => void>();

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if ((req.url ?? "/").split("?")[0] !== o.path) return false;
    void accept(req, socket, head);
    return true;
  }

  async function accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => {}); // a client that vanishes mid-upgrade is not our error
    const peer = req.socket.remoteAddress ?? "unknown";
    const client = resolveClientAddress(peer, req.headers[o.clientAddressHeader], { trusted, header: o.clientAddressHeader });
    const remote = client.address;
    const own = (): GatewayContext => (contextValues ? { ...ctx, upstream: upstreams(() => contextValues(req)) } : ctx);
    await sockets.accept(req, socket, head, { remote, peer, chain: client.chain }, localOrigin(req, o.publicOrigin), own, socket);
  }

  function attach(server: UpgradeSource): () => void {
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (handleUpgrade(req, socket, head)) return;
      // Alone on the server, an upgrade nobody takes would hang: answer it.
      if (server.listenerCount("upgrade") === 1) {
        const path = (req.url ?? "/").split("?")[0];
        refuse(socket, { status: 400, reason: `no WebSocket endpoint at ${path}; the tunnel path is ${o.path}` });
      }
    };
    server.on("upgrade", listener);
    const detach = (): void => {
      server.off("upgrade", listener);
      detachers.delete(detach);
    };
    detachers.add(detach);
    return detach;
  }

  const drain = (): Promise<void> => sockets.drain();

  let closing: Promise<void> | undefined;
  function close(drainTimeoutMs = o.drainTimeoutMs): Promise<void> {
    closing ??= (async () => {
      await sockets.close(drainTimeoutMs);
      for (const detach of [...detachers]) detach();
      log.info("tunnel endpoint closed");
    })();
    return closing;
  }

  return {
    path: o.path,
    options: o,
    metrics: metrics.registry,
    handleUpgrade,
    attach,
    stats: () => {
      const { streamsWaitingForOutput: _, ...stats } = sockets.stats();
      return stats;
    },
    drain,
    close,
  };
}

/**
 * The origin admitted by default: `publicOrigin`, else the scheme, address and port the
 * client's TCP connection reached (never the client-sent Host header).
 */
function localOrigin(req: IncomingMessage, publicOrigin: string | undefined): string | undefined {
  const address = (req.socket.localAddress ?? "").replace(/^::ffff:(?=\d+\.)/, "");
  const scheme = (req.socket as TLSSocket).encrypted ? "https" : "http";
  return ownOrigin(publicOrigin, address, req.socket.localPort ?? 0, scheme);
}
