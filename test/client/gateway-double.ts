/**
 * A small gateway double for the client session's unit tests: a real `ws` WebSocketServer
 * speaking the tunnel protocol through the real codec, with just enough of the gateway to
 * drive the client (settings, streams, flow control bookkeeping, and hooks to misbehave).
 * It is a test of sw/ only; the real gateway is in server/.
 */
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import {
  DEFAULT_SETTINGS,
  SUBPROTOCOL,
  decodeFrame,
  encodeFrame,
  resolveSettings,
  type Frame,
  type HeaderList,
  type Settings,
} from "../../protocol/index.js";

export interface DoubleOptions {
  /** Settings the double announces (merged over the protocol defaults). */
  settings?: Partial<Settings>;
  /** Delay before the double sends its SETTINGS (tests handshake ordering). */
  settingsDelayMs?: number;
  /** Grant WINDOW_UPDATE for request DATA as soon as it arrives (default true). */
  autoCredit?: boolean;
  /** Called for each request HEADERS. */
  onStream?: (stream: DoubleStream, conn: DoubleConn) => void;
  /** Called for each new socket, before the SETTINGS are sent. */
  onConnection?: (conn: DoubleConn) => void;
  /** Port to listen on (0 = free port). */
  port?: number;
}

export class DoubleStream {
  readonly chunks: Uint8Array[] = [];
  requestEnded = false;
  reset: { code: number; message: string } | null = null;
  /** Request DATA bytes received beyond the credit we granted (must stay 0). */
  overrun = 0;
  private credit: number;
  sendWindow: number;
  private waiters: Array<() => void> = [];
  received = 0;
  sent = 0;
  /** True while write() waits for window. */
  blocked = false;

  constructor(
    readonly conn: DoubleConn,
    readonly id: number,
    readonly method: string,
    readonly path: string,
    readonly headers: HeaderList,
    endStream: boolean,
  ) {
    this.requestEnded = endStream;
    this.credit = conn.settings.initialStreamWindow;
    this.sendWindow = conn.clientSettings.initialStreamWindow;
  }

  header(name: string): string | undefined {
    return this.headers.find(([n]) => n === name)?.[1];
  }

  /** Resolves once the request ended (END_STREAM) or was reset. */
  async requestEnd(): Promise<Uint8Array> {
    await this.until(() => this.requestEnded || this.reset !== null);
    return concat(this.chunks);
  }

  /** Resolves once `cond` holds (checked after every event on this stream). */
  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (cond()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  onData(data: Uint8Array, endStream: boolean): void {
    if (data.length > this.credit) this.overrun += data.length - this.credit;
    this.credit -= data.length;
    this.received += data.length;
    if (data.length > 0) this.chunks.push(data.slice());
    if (endStream) this.requestEnded = true;
    if (this.conn.autoCredit && data.length > 0) this.grant(data.length);
    this.notify();
  }

  /** Grants the client `n` more bytes of request DATA (stream and socket). */
  grant(n: number): void {
    this.credit += n;
    this.conn.send({ kind: "window-update", streamId: this.id, increment: n });
    this.conn.send({ kind: "window-update", streamId: 0, increment: n });
  }

  respond(status = 200, headers: HeaderList = [], endStream = false): void {
    this.conn.send({ kind: "response-headers", streamId: this.id, status, headers, endStream });
  }

  /** Sends `data` as DATA frames within the client's windows; waits for credit. */
  async write(data: Uint8Array, endStream = false): Promise<void> {
    let o = 0;
    do {
      const room = Math.min(this.sendWindow, this.conn.sendWindow, this.conn.clientSettings.maxFramePayload);
      const n = Math.min(room, data.length - o);
      if (n === 0 && data.length > 0) {
        this.blocked = true;
        this.notify();
        await this.until(() => this.reset !== null || Math.min(this.sendWindow, this.conn.sendWindow) > 0);
        this.blocked = false;
        if (this.reset) return;
        continue;
      }
      this.sendWindow -= n;
      this.conn.sendWindow -= n;
      this.sent += n;
      const last = o + n === data.length;
      this.conn.send({ kind: "data", streamId: this.id, endStream: endStream && last, data: data.subarray(o, o + n) });
      o += n;
    } while (o < data.length);
  }

  trailers(trailers: HeaderList): void {
    this.conn.send({ kind: "trailers", streamId: this.id, trailers });
  }

  rst(code: number, message: string): void {
    this.conn.send({ kind: "rst", streamId: this.id, code, message });
  }
}

export class DoubleConn {
  /** Every frame the client sent, in order, with a sequence number shared with `sentLog`. */
  readonly received: Array<{ seq: number; frame: Frame }> = [];
  readonly sentLog: Array<{ seq: number; frame: Frame }> = [];
  readonly streams = new Map<number, DoubleStream>();
  clientSettings: Settings = resolveSettings({});
  sendWindow = 0;
  settings: Settings;
  autoCredit: boolean;
  closed = false;
  maxOpen = 0;
  private waiters: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    readonly protocol: string,
    readonly server: GatewayDouble,
  ) {
    this.settings = resolveSettings(server.options.settings ?? {});
    this.autoCredit = server.options.autoCredit ?? true;
  }

  send(frame: Frame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.sentLog.push({ seq: this.server.seq++, frame });
    this.ws.send(encodeFrame(frame));
  }

  goaway(lastStreamId: number, code: number, message = ""): void {
    this.send({ kind: "goaway", lastStreamId, code, message });
  }

  /** Streams neither ended on both sides nor reset, as the double sees them. */
  get openCount(): number {
    let n = 0;
    for (const s of this.streams.values()) if (!s.reset && !s.requestEnded) n++;
    return n;
  }

  until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (cond()) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Resolves with the first frame from the client matching `pred` (past or future). */
  async frame(pred: (f: Frame) => boolean): Promise<Frame> {
    let found: Frame | undefined;
    await this.until(() => (found = this.received.find((r) => pred(r.frame))?.frame) !== undefined);
    return found!;
  }

  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  onMessage(bytes: Uint8Array): void {
    const frame = decodeFrame(bytes, "client", { maxFramePayload: this.settings.maxFramePayload, maxHeaderBlockBytes: 1 << 20 });
    this.received.push({ seq: this.server.seq++, frame });
    switch (frame.kind) {
      case "settings":
        this.clientSettings = resolveSettings(frame.settings);
        this.sendWindow = this.clientSettings.initialConnectionWindow;
        break;
      case "request-headers": {
        const stream = new DoubleStream(this, frame.streamId, frame.method, frame.path, frame.headers, frame.endStream);
        this.streams.set(frame.streamId, stream);
        this.maxOpen = Math.max(this.maxOpen, this.openCount);
        this.server.options.onStream?.(stream, this);
        break;
      }
      case "data":
        this.streams.get(frame.streamId)?.onData(frame.data, frame.endStream);
        break;
      case "rst": {
        const s = this.streams.get(frame.streamId);
        if (s) {
          s.reset = { code: frame.code, message: frame.message };
          s.notify();
        }
        break;
      }
      case "window-update": {
        if (frame.streamId === 0) {
          this.sendWindow += frame.increment;
          for (const s of this.streams.values()) s.notify();
        } else {
          const s = this.streams.get(frame.streamId);
          if (s) {
            s.sendWindow += frame.increment;
            s.notify();
          }
        }
        break;
      }
      case "ping":
        this.send({ kind: "pong", data: frame.data });
        break;
    }
    this.notify();
  }
}

export class GatewayDouble {
  readonly connections: DoubleConn[] = [];
  seq = 0;
  private wss!: WebSocketServer;
  port = 0;
  private connWaiters: Array<() => void> = [];

  constructor(readonly options: DoubleOptions) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}/tunnel`;
  }

  async start(): Promise<this> {
    this.wss = new WebSocketServer({
      host: "127.0.0.1",
      port: this.options.port ?? 0,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    await new Promise<void>((resolve, reject) => {
      this.wss.once("listening", resolve);
      this.wss.once("error", reject);
    });
    this.port = (this.wss.address() as AddressInfo).port;
    this.wss.on("connection", (ws) => {
      const conn = new DoubleConn(ws, ws.protocol, this);
      this.connections.push(conn);
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (!isBinary) return;
        conn.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
      ws.on("close", () => {
        conn.closed = true;
        conn.notify();
      });
      this.options.onConnection?.(conn);
      const sendSettings = () => conn.send({ kind: "settings", settings: { ...DEFAULT_SETTINGS, ...this.options.settings } });
      if (this.options.settingsDelayMs) setTimeout(sendSettings, this.options.settingsDelayMs);
      else sendSettings();
      const w = this.connWaiters;
      this.connWaiters = [];
      for (const f of w) f();
    });
    return this;
  }

  /** Resolves once at least `n` sockets connected. */
  async connection(n = 1): Promise<DoubleConn> {
    while (this.connections.length < n) await new Promise<void>((r) => this.connWaiters.push(r));
    return this.connections[n - 1]!;
  }

  /** Drops every socket abruptly (TCP reset, no close frame). */
  dropAll(): void {
    for (const c of this.wss.clients) c.terminate();
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

export async function startDouble(options: DoubleOptions = {}): Promise<GatewayDouble> {
  return new GatewayDouble(options).start();
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Reads a response body to the end. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return concat(chunks);
}

/** Deterministic pseudo-random bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >>> 16;
  }
  return out;
}
