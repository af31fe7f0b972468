/**
 * In-process mode for Node backends: the gateway's tunnel endpoint mounted on the app's own
 * `http.Server`, each tunnel stream dispatched to a connect-node router's universal handler
 * in this process (server/upstream/in-process.ts) instead of an HTTP/2 request to an
 * upstream. The sockets and streams are the gateway's own (server/connection.ts,
 * server/stream.ts), so admission, limits, deadlines, metrics and drain are the same.
 */
import http, { type IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { createConnectRouter, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { Registry } from "prom-client";
import { WebSocketServer } from "ws";
import { FRAME_HEADER_SIZE, SUBPROTOCOL } from "../protocol/index.js";
import { createAdapters } from "./adapters/index.js";
import { SocketCounter, admit, ownOrigin, type Refusal } from "./admission.js";
import { resolveClientAddress, trustList } from "./client-address.js";
import { TunnelConnection } from "./connection.js";
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
  const counter = new SocketCounter();
  const connections = new Set<TunnelConnection>();
  const detachers = new Set<() => void>();
  let draining = false;
  let streamsTotalClosed = 0;

  const wss = new WebSocketServer({
    noServer: true,
    // Room above the frame limit, so an oversized frame is answered with GOAWAY FRAME_SIZE_ERROR.
    maxPayload: 2 * o.maxFramePayload + FRAME_HEADER_SIZE,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  function reject(socket: Duplex, refusal: Refusal, remote: string): void {
    metrics.upgradesRejected.inc({ status: String(refusal.status) });
    metrics.errors.inc({ code: `http_${refusal.status}` });
    log.info({ remote, status: refusal.status, reason: refusal.reason }, "upgrade refused");
    refuse(socket, refusal);
  }

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
    const draining503: Refusal = { status: 503, reason: "gateway is draining; retry on another instance" };
    if (draining) return reject(socket, draining503, remote);
    const refusal = (await admit(req, { ...o, ownOrigin: localOrigin(req, o.publicOrigin) })) ?? counter.check(remote, o);
    if (refusal) return reject(socket, refusal, remote);
    if (draining) return reject(socket, draining503, remote);
    counter.add(remote); // counted before the handshake completes, so bursts cannot pass the limit
    let accepted = false;
    socket.once("close", () => {
      if (!accepted) counter.remove(remote);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      const own = contextValues ? { ...ctx, upstream: upstreams(() => contextValues(req)) } : ctx;
      const conn = new TunnelConnection(own, ws, remote, client.chain.join(", "));
      connections.add(conn);
      metrics.sockets.inc();
      metrics.socketsTotal.inc();
      log.info({ remote, ...(peer !== remote && { peer }), origin: req.headers.origin }, "socket open");
      const aging = limitAge(conn);
      conn.whenClosed(() => {
        aging();
        connections.delete(conn);
        counter.remove(remote);
        metrics.sockets.dec();
        streamsTotalClosed += conn.streamsTotal;
        log.info({ remote, streams: conn.streamsTotal }, "socket closed");
      });
    });
  }

  /** `maxSocketAgeMs`, as the gateway applies it (jittered GOAWAY, then close after drainTimeoutMs). */
  function limitAge(conn: TunnelConnection): () => void {
    if (o.maxSocketAgeMs <= 0) return () => {};
    let hard: NodeJS.Timeout | undefined;
    const timer = setTimeout(
      () => {
        conn.drain("socket reached the gateway's maximum socket age; open new streams on a new socket");
        hard = setTimeout(() => conn.terminate(), o.drainTimeoutMs);
        hard.unref();
      },
      Math.round(o.maxSocketAgeMs * (0.9 + 0.2 * Math.random())),
    );
    timer.unref();
    return () => {
      clearTimeout(timer);
      clearTimeout(hard);
    };
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

  function allClosed(): Promise<void> {
    return new Promise((resolve) => {
      if (connections.size === 0) return resolve();
      let left = connections.size;
      for (const c of connections) c.whenClosed(() => --left === 0 && resolve());
    });
  }

  async function drain(): Promise<void> {
    if (!draining) {
      draining = true;
      log.info({ sockets: connections.size }, "draining");
      for (const c of connections) c.drain();
    }
    await allClosed();
  }

  let closing: Promise<void> | undefined;
  function close(drainTimeoutMs = o.drainTimeoutMs): Promise<void> {
    closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)))]);
      clearTimeout(timer);
      if (connections.size > 0) log.warn({ sockets: connections.size }, "drain timeout; closing the remaining sockets");
      for (const c of [...connections]) c.terminate();
      for (const detach of [...detachers]) detach();
      wss.close();
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
      let active = 0;
      let total = streamsTotalClosed;
      let bufferedBytes = 0;
      for (const c of connections) {
        active += c.activeStreams;
        total += c.streamsTotal;
        bufferedBytes += c.bufferedBytes;
      }
      return { sockets: connections.size, streamsActive: active, streamsTotal: total, draining, bufferedBytes };
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

function refuse(socket: Duplex, refusal: Refusal): void {
  const body = `${refusal.reason}\n`;
  const reason = http.STATUS_CODES[refusal.status] ?? "";
  socket.end(
    `HTTP/1.1 ${refusal.status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
