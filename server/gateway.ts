/**
 * The gateway: one node:http server carrying the WebSocket upgrade (admission first),
 * /healthz, /readyz and /metrics; the upstream pool; drain.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { createSecureContext } from "node:tls";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { FRAME_HEADER_SIZE, SUBPROTOCOL } from "../protocol/index.js";
import { createAdapters } from "./adapters/index.js";
import { SocketCounter, admit, type Refusal } from "./admission.js";
import { TunnelConnection } from "./connection.js";
import type { GatewayContext } from "./context.js";
import { createLogger } from "./log.js";
import { GatewayMetrics } from "./metrics.js";
import { OptionsError, resolveOptions, type GatewayOptions, type ResolvedOptions } from "./options.js";
import { UpstreamPool } from "./upstream/pool.js";
import type { Registry } from "prom-client";

/** Counters for tests and health checks. */
export interface GatewayStats {
  sockets: number;
  streamsActive: number;
  streamsTotal: number;
  upstreamSessions: number;
  draining: boolean;
}

/** A running gateway. */
export interface Gateway {
  /** `http://host:port` of the listening server (`https://` with `tlsCert`). */
  readonly url: string;
  /** `ws://host:port/path` of the tunnel endpoint (`wss://` with `tlsCert`). */
  readonly tunnelUrl: string;
  readonly address: AddressInfo;
  readonly options: ResolvedOptions;
  /** The gateway's own prom-client registry. */
  readonly metrics: Registry;
  stats(): GatewayStats;
  /** Starts draining (GOAWAY on every socket, new upgrades 503); resolves when every socket closed. */
  drain(): Promise<void>;
  /** Drains for at most `drainTimeoutMs` (default: the option), then closes everything. */
  close(drainTimeoutMs?: number): Promise<void>;
}

/** Starts a gateway listening on `options.host:options.port`. */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const o = resolveOptions(options);
  checkTls(o);
  const log = o.logger ?? createLogger(o.logLevel, o.logFormat);
  const metrics = new GatewayMetrics();
  const pool = new UpstreamPool({
    url: o.upstream,
    ca: o.upstreamCa,
    insecure: o.upstreamInsecure,
    pingIntervalMs: o.upstreamPingIntervalMs,
    // The gateway buffers at most as much of a response per stream as the client may.
    streamWindow: o.streamWindow,
    connectionWindow: Math.max(o.connectionWindow, o.streamWindow),
    maxFrameSize: o.maxFramePayload,
    log,
    onSessionCount: (n) => metrics.upstreamSessions.set(n),
  });
  const ctx: GatewayContext = {
    options: o,
    adapters: createAdapters({
      upstreamProtocol: o.upstreamProtocol,
      descriptors: o.descriptors,
      maxMessageBytes: o.maxMessageBytes === 0 ? Number.MAX_SAFE_INTEGER : o.maxMessageBytes,
    }),
    upstream: pool.request,
    metrics,
    log,
  };
  const counter = new SocketCounter();
  const connections = new Set<TunnelConnection>();
  let draining = false;
  let streamsTotalClosed = 0;

  const wss = new WebSocketServer({
    noServer: true,
    // Room above the frame limit, so an oversized frame is answered with GOAWAY
    // FRAME_SIZE_ERROR rather than a bare WebSocket close.
    maxPayload: 2 * o.maxFramePayload + FRAME_HEADER_SIZE,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  const handler = (req: IncomingMessage, res: ServerResponse): void => void onRequest(req, res);
  // TLS in the gateway when a certificate is given; else plain HTTP (TLS at a proxy, or none on loopback).
  const tls = o.tlsCert !== undefined && o.tlsKey !== undefined;
  const server = tls ? https.createServer({ cert: o.tlsCert, key: o.tlsKey }, handler) : http.createServer(handler);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void onUpgrade(req, socket, head));

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return text(res, 405, "method not allowed\n");
    if (path === "/healthz") return text(res, 200, "ok\n");
    if (path === "/readyz") return draining ? text(res, 503, "draining\n") : text(res, 200, "ready\n");
    if (path === "/metrics") {
      const body = await metrics.registry.metrics();
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(body);
      return;
    }
    if (path === o.path) return text(res, 426, `this endpoint needs a WebSocket upgrade with subprotocol ${SUBPROTOCOL}\n`);
    text(res, 404, "not found\n");
  }

  function reject(socket: Duplex, refusal: Refusal, remote: string): void {
    metrics.upgradesRejected.inc({ status: String(refusal.status) });
    metrics.errors.inc({ code: `http_${refusal.status}` });
    log.info({ remote, status: refusal.status, reason: refusal.reason }, "upgrade refused");
    const body = `${refusal.reason}\n`;
    const reason = http.STATUS_CODES[refusal.status] ?? "";
    socket.end(
      `HTTP/1.1 ${refusal.status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => {}); // a client that vanishes mid-upgrade is not our error
    const remote = req.socket.remoteAddress ?? "unknown";
    const path = (req.url ?? "/").split("?")[0];
    if (path !== o.path) return reject(socket, { status: 400, reason: `no tunnel at ${path}; the tunnel path is ${o.path}` }, remote);
    if (draining) return reject(socket, { status: 503, reason: "gateway is draining; retry on another instance" }, remote);
    const refusal = (await admit(req, o)) ?? counter.check(remote, o);
    if (refusal) return reject(socket, refusal, remote);
    if (draining) return reject(socket, { status: 503, reason: "gateway is draining; retry on another instance" }, remote);
    counter.add(remote); // counted before the handshake completes, so bursts cannot pass the limit
    let accepted = false;
    // ws answers a bad handshake itself and never calls back; the slot is released then.
    socket.once("close", () => {
      if (!accepted) counter.remove(remote);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      const conn = new TunnelConnection(ctx, ws, remote);
      connections.add(conn);
      metrics.sockets.inc();
      metrics.socketsTotal.inc();
      log.info({ remote, origin: req.headers.origin }, "socket open");
      conn.whenClosed(() => {
        connections.delete(conn);
        counter.remove(remote);
        metrics.sockets.dec();
        streamsTotalClosed += conn.streamsTotal;
        log.info({ remote, streams: conn.streamsTotal }, "socket closed");
      });
    });
  }

  await new Promise<void>((resolve, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(o.port, o.host, () => {
      server.off("error", rejectListen);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `${tls ? "https" : "http"}://${hostForUrl}:${address.port}`;
  log.info({ url, upstream: o.upstream, upstreamProtocol: o.upstreamProtocol }, `gateway listening on ${url} (upstream ${o.upstream})`);

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
  async function close(drainTimeoutMs = o.drainTimeoutMs): Promise<void> {
    closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)))]);
      clearTimeout(timer);
      if (connections.size > 0) log.warn({ sockets: connections.size }, "drain timeout; closing the remaining sockets");
      for (const c of [...connections]) c.terminate();
      pool.close();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      log.info("gateway closed");
    })();
    return closing;
  }

  return {
    url,
    tunnelUrl: `${tls ? "wss" : "ws"}://${hostForUrl}:${address.port}${o.path}`,
    address,
    options: o,
    metrics: metrics.registry,
    stats: () => {
      let active = 0;
      let total = streamsTotalClosed;
      for (const c of connections) {
        active += c.activeStreams;
        total += c.streamsTotal;
      }
      return { sockets: connections.size, streamsActive: active, streamsTotal: total, upstreamSessions: pool.sessionCount, draining };
    },
    drain,
    close,
  };
}

/** A certificate or key that OpenSSL cannot load fails before the port opens, naming the options. */
function checkTls(o: ResolvedOptions): void {
  if (o.tlsCert === undefined) return;
  try {
    createSecureContext({ cert: o.tlsCert, key: o.tlsKey });
  } catch (err) {
    throw new OptionsError(
      `tlsCert/tlsKey cannot be used (${(err as Error).message}); give a PEM certificate chain and its matching PEM private key`,
    );
  }
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
