/**
 * The gateway: one node:http server carrying the WebSocket upgrade (admission first),
 * /healthz and /readyz; an optional admin listener adding /metrics; the upstream pool;
 * socket age; drain.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { createSecureContext } from "node:tls";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { SUBPROTOCOL } from "../protocol/index.js";
import { createAdapters } from "./adapters/index.js";
import { descriptorMethods } from "./adapters/transcode.js";
import { ownOrigin } from "./admission.js";
import { resolveClientAddress, trustList } from "./client-address.js";
import type { GatewayContext } from "./context.js";
import { createLogger } from "./log.js";
import { TunnelSockets } from "./tunnel-sockets.js";
import { GatewayMetrics } from "./metrics.js";
import { OptionsError, parseHostPort, resolveOptions, type GatewayOptions, type ResolvedOptions } from "./options.js";
import { UpstreamPool } from "./upstream/pool.js";
import type { Registry } from "prom-client";

/** Counters for tests and health checks. */
export interface GatewayStats {
  sockets: number;
  streamsActive: number;
  streamsTotal: number;
  upstreamSessions: number;
  draining: boolean;
  /** Bytes queued unwritten over all tunnel sockets. */
  bufferedBytes: number;
  /** Streams waiting for their queued output to be written (a buffered-bytes cap was reached). */
  streamsWaitingForOutput: number;
  /** TCP connections that have not upgraded (or sent a request) yet. */
  pendingConnections: number;
}

/** A running gateway. */
export interface Gateway {
  /** `http://host:port` of the listening server (`https://` with `tlsCert`). */
  readonly url: string;
  /** `ws://host:port/path` of the tunnel endpoint (`wss://` with `tlsCert`). */
  readonly tunnelUrl: string;
  readonly address: AddressInfo;
  /** `http://host:port` of the admin listener (/metrics, /healthz, /readyz), when `adminListen` is set. */
  readonly adminUrl: string | undefined;
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
  const metrics = new GatewayMetrics({
    methods: o.descriptors ? descriptorMethods(o.descriptors) : undefined,
    services: o.allowServices,
  });
  const trusted = trustList(o.trustProxy);
  /** The gateway's own origin, known once the port is (see admission.ts ownOrigin). */
  let origin: string | undefined;
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
  const sockets = new TunnelSockets(o, metrics, log);
  const { counter } = sockets;

  const handler = (req: IncomingMessage, res: ServerResponse): void => void onRequest(req, res);
  // TLS in the gateway when a certificate is given; else plain HTTP (TLS at a proxy, or none on loopback).
  const tls = o.tlsCert !== undefined && o.tlsKey !== undefined;
  const server = tls ? https.createServer({ cert: o.tlsCert, key: o.tlsKey }, handler) : http.createServer(handler);
  server.headersTimeout = o.upgradeTimeoutMs; // later requests on a keep-alive connection
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void onUpgrade(req, socket, head));
  server.on("connection", onConnection);

  // A connection holds a socket slot from accept until its request head is in (slowloris
  // cannot queue up connections), and has upgradeTimeoutMs to send it.
  const pending = new Map<Duplex, () => void>();
  const refused = new WeakSet<Duplex>();
  function onConnection(socket: Socket): void {
    socket.on("error", () => {}); // a client that vanishes is not our error
    const peer = socket.remoteAddress ?? "unknown";
    const ms = o.upgradeTimeoutMs;
    const refusal = counter.check(peer, o);
    const timer = setTimeout(() => {
      if (!refused.has(socket) && !settle(socket)) return;
      if (!refused.has(socket))
        sockets.reject(socket, { status: 408, reason: `no complete request head within ${ms} ms (upgradeTimeoutMs)` }, peer);
      socket.destroySoon();
    }, ms);
    timer.unref();
    socket.once("close", () => (clearTimeout(timer), settle(socket)));
    if (refusal) {
      refused.add(socket);
      return sockets.reject(socket, refusal, peer);
    }
    counter.add(peer);
    pending.set(socket, () => counter.remove(peer));
  }
  /** The connection's request head arrived (or it closed): its pending slot is released. */
  function settle(socket: Duplex): boolean {
    const release = pending.get(socket);
    pending.delete(socket);
    release?.();
    return release !== undefined;
  }

  /** /healthz and /readyz (both listeners), /metrics (the admin listener only). */
  async function onProbe(path: string, res: ServerResponse, admin: boolean): Promise<boolean> {
    if (path === "/healthz") return (text(res, 200, "ok\n"), true);
    if (path === "/readyz") {
      if (sockets.draining) return (text(res, 503, "draining\n"), true);
      // Not ready while the backend cannot be reached: a load balancer then sends no one here.
      return ((await pool.probe()) ? text(res, 200, "ready\n") : text(res, 503, "upstream unreachable\n"), true);
    }
    if (path !== "/metrics") return false;
    if (!admin)
      return (text(res, 404, "/metrics is served on the admin listener only; start the gateway with --admin-listen HOST:PORT\n"), true);
    const body = await metrics.registry.metrics();
    res.writeHead(200, { "content-type": metrics.registry.contentType });
    res.end(body);
    return true;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse, admin = false): Promise<void> {
    if (!admin) {
      if (refused.has(req.socket)) return void req.socket.destroy();
      settle(req.socket);
    }
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method !== "GET" && req.method !== "HEAD") return text(res, 405, "method not allowed\n");
    if (await onProbe(path, res, admin)) return;
    if (path === o.path && !admin) return text(res, 426, `this endpoint needs a WebSocket upgrade with subprotocol ${SUBPROTOCOL}\n`);
    text(res, 404, "not found\n");
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => {}); // a client that vanishes mid-upgrade is not our error
    if (refused.has(socket)) return void socket.destroy();
    settle(socket); // the head is in; from here the tunnel socket's own count applies
    const peer = req.socket.remoteAddress ?? "unknown";
    // Limits, logs and metrics use the client address; trusted proxies may name it.
    const client = resolveClientAddress(peer, req.headers[o.clientAddressHeader], { trusted, header: o.clientAddressHeader });
    const remote = client.address;
    const path = (req.url ?? "/").split("?")[0];
    if (path !== o.path)
      return sockets.reject(socket, { status: 400, reason: `no tunnel at ${path}; the tunnel path is ${o.path}` }, remote);
    await sockets.accept(req, socket, head, { remote, peer, chain: client.chain }, origin, () => ctx, socket);
  }

  const address = await listen(server, o.host, o.port);
  const hostForUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `${tls ? "https" : "http"}://${hostForUrl}:${address.port}`;
  origin = ownOrigin(o.publicOrigin, o.host, address.port, tls ? "https" : "http");
  let admin: http.Server | undefined;
  let adminUrl: string | undefined;
  if (o.adminListen !== undefined) {
    const { host, port } = parseHostPort("adminListen", o.adminListen);
    admin = http.createServer((req, res) => void onRequest(req, res, true));
    try {
      const a = await listen(admin, host, port);
      adminUrl = `http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
    } catch (err) {
      server.close();
      throw err;
    }
  }
  const adminText = adminUrl ? `admin ${adminUrl}, ` : "";
  log.info(
    { url, adminUrl, origin, upstream: o.upstream, upstreamProtocol: o.upstreamProtocol },
    `gateway listening on ${url} (${adminText}upstream ${o.upstream})`,
  );

  const drain = (): Promise<void> => sockets.drain();

  let closing: Promise<void> | undefined;
  async function close(drainTimeoutMs = o.drainTimeoutMs): Promise<void> {
    closing ??= (async () => {
      await sockets.close(drainTimeoutMs);
      pool.close();
      await Promise.all(
        [server, admin].map(
          (s) =>
            s &&
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      log.info("gateway closed");
    })();
    return closing;
  }

  return {
    url,
    tunnelUrl: `${tls ? "wss" : "ws"}://${hostForUrl}:${address.port}${o.path}`,
    address,
    adminUrl,
    options: o,
    metrics: metrics.registry,
    stats: () => ({ ...sockets.stats(), upstreamSessions: pool.sessionCount, pendingConnections: pending.size }),
    drain,
    close,
  };
}

function listen(server: http.Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
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
