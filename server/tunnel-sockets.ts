/**
 * The tunnel sockets of a gateway or an in-process endpoint: the WebSocket handshake after
 * admission, the socket limits' counts, the registry of open connections, their maximum
 * age, drain and stats. server/gateway.ts (its own listener, an HTTP/2 upstream) and
 * server/in-process.ts (mounted on the app's server) differ only in what is around this.
 */
import http, { type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { FRAME_HEADER_SIZE, SUBPROTOCOL } from "../protocol/index.js";
import { SocketCounter, admit, type Refusal } from "./admission.js";
import { TunnelConnection } from "./connection.js";
import type { GatewayContext } from "./context.js";
import type { GatewayMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";

const DRAINING: Refusal = { status: 503, reason: "gateway is draining; retry on another instance" };

/** Who an upgrade comes from: the client address (trusted proxies resolved), its TCP peer and the forwarding chain. */
export interface UpgradeClient {
  remote: string;
  peer: string;
  chain: string[];
}

/** Sums over the open connections and those already closed. */
export interface SocketStats {
  sockets: number;
  streamsActive: number;
  streamsTotal: number;
  draining: boolean;
  bufferedBytes: number;
  streamsWaitingForOutput: number;
}

/** Answers an upgrade with an HTTP refusal and closes the socket. */
export function refuse(socket: Duplex, refusal: Refusal): void {
  const body = `${refusal.reason}\n`;
  const reason = http.STATUS_CODES[refusal.status] ?? "";
  socket.end(
    `HTTP/1.1 ${refusal.status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export class TunnelSockets {
  /** Socket counts per client address and in total (maxSocketsPerIp, maxSockets). */
  readonly counter = new SocketCounter();
  private readonly connections = new Set<TunnelConnection>();
  private readonly wss: WebSocketServer;
  private streamsTotalClosed = 0;
  draining = false;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      // Room above the frame limit, so an oversized frame is answered with GOAWAY
      // FRAME_SIZE_ERROR rather than a bare WebSocket close.
      maxPayload: 2 * o.maxFramePayload + FRAME_HEADER_SIZE,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
  }

  /** Refuses an upgrade: counted, logged, answered with its status and reason. */
  reject(socket: Duplex, refusal: Refusal, remote: string): void {
    this.metrics.upgradesRejected.inc({ status: String(refusal.status) });
    this.metrics.errors.inc({ code: `http_${refusal.status}` });
    this.log.info({ remote, status: refusal.status, reason: refusal.reason }, "upgrade refused");
    refuse(socket, refusal);
  }

  /**
   * Admits an upgrade (draining, origin, authentication, socket limits), completes the
   * WebSocket handshake and serves the tunnel on it with `ctx`. `socket` is the upgraded
   * TCP socket the connection corks per event-loop turn (undefined: not corked).
   */
  async accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    client: UpgradeClient,
    ownOrigin: string | undefined,
    ctx: () => GatewayContext,
    corkable?: Duplex,
  ): Promise<void> {
    const { remote, peer } = client;
    if (this.draining) return this.reject(socket, DRAINING, remote);
    const refusal = (await admit(req, { ...this.o, ownOrigin })) ?? this.counter.check(remote, this.o);
    if (refusal) return this.reject(socket, refusal, remote);
    if (this.draining) return this.reject(socket, DRAINING, remote);
    this.counter.add(remote); // counted before the handshake completes, so bursts cannot pass the limit
    let accepted = false;
    // ws answers a bad handshake itself and never calls back; the slot is released then.
    socket.once("close", () => {
      if (!accepted) this.counter.remove(remote);
    });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      const conn = new TunnelConnection(ctx(), ws, remote, client.chain.join(", "), corkable);
      this.connections.add(conn);
      this.metrics.sockets.inc();
      this.metrics.socketsTotal.inc();
      this.log.info({ remote, ...(peer !== remote && { peer }), origin: req.headers.origin }, "socket open");
      const aging = this.limitAge(conn);
      conn.whenClosed(() => {
        aging();
        this.connections.delete(conn);
        this.counter.remove(remote);
        this.metrics.sockets.dec();
        this.streamsTotalClosed += conn.streamsTotal;
        this.log.info({ remote, streams: conn.streamsTotal }, "socket closed");
      });
    });
  }

  /** Starts draining (GOAWAY on every socket, new upgrades 503); resolves when every socket closed. */
  async drain(): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.log.info({ sockets: this.connections.size }, "draining");
      for (const c of this.connections) c.drain();
    }
    await new Promise<void>((resolve) => {
      if (this.connections.size === 0) return resolve();
      let left = this.connections.size;
      for (const c of this.connections) c.whenClosed(() => --left === 0 && resolve());
    });
  }

  /** Drains for at most `drainTimeoutMs`, then closes what is left. */
  async close(drainTimeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainTimeoutMs)))]);
    clearTimeout(timer);
    if (this.connections.size > 0) this.log.warn({ sockets: this.connections.size }, "drain timeout; closing the remaining sockets");
    for (const c of [...this.connections]) c.terminate();
    this.wss.close();
  }

  stats(): SocketStats {
    const s = { sockets: this.connections.size, streamsActive: 0, streamsTotal: this.streamsTotalClosed, draining: this.draining };
    let bufferedBytes = 0;
    let streamsWaitingForOutput = 0;
    for (const c of this.connections) {
      s.streamsActive += c.activeStreams;
      s.streamsTotal += c.streamsTotal;
      bufferedBytes += c.bufferedBytes;
      streamsWaitingForOutput += c.streamsWaitingForOutput;
    }
    return { ...s, bufferedBytes, streamsWaitingForOutput };
  }

  /**
   * `maxSocketAgeMs`: GOAWAY NO_ERROR once a socket is old (jittered by up to 10% either
   * way, so sockets opened together do not all move at once), then close it after
   * `drainTimeoutMs` if streams are still open. Returns the cleanup.
   */
  private limitAge(conn: TunnelConnection): () => void {
    if (this.o.maxSocketAgeMs <= 0) return () => {};
    let hard: NodeJS.Timeout | undefined;
    const age = Math.round(this.o.maxSocketAgeMs * (0.9 + 0.2 * Math.random()));
    const timer = setTimeout(() => {
      this.log.debug({ remote: conn.remote, ageMs: age }, "socket reached its maximum age; draining it");
      conn.drain("socket reached the gateway's maximum socket age; open new streams on a new socket");
      hard = setTimeout(() => conn.terminate(), this.o.drainTimeoutMs);
      hard.unref();
    }, age);
    timer.unref();
    return () => {
      clearTimeout(timer);
      clearTimeout(hard);
    };
  }
}
