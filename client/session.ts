/**
 * One WebSocket to the gateway: the SETTINGS exchange, the stream table, socket-level flow
 * control, PING/PONG, GOAWAY and close, per the session rules of docs/PROTOCOL.md. The
 * tunnel client decides which session a call goes to; a session never reconnects.
 */
import { Code } from "./code.js";
import {
  DEFAULT_DECODE_LIMITS,
  ErrorCode,
  MAX_STREAM_ID,
  PROTOCOL_VERSION,
  ProtocolError,
  ReceiveWindow,
  SUBPROTOCOL,
  SendWindow,
  batchesInUse,
  decodeFrame,
  encodeFrame,
  isBatch,
  packFrames,
  splitBatch,
  errorCodeName,
  resolveSettings,
  type DecodeLimits,
  type Frame,
  type GoawayFrame,
  type Settings,
} from "../protocol/index.js";
import { ClientStream, type StreamHost, type StreamInit } from "./client-stream.js";
import { TunnelError, resetError, socketLostError, unreachableError } from "./errors.js";
import { unprocessedBy } from "./replay.js";
import { traceFrame, traceHook } from "../protocol/trace.js";
import type { WebSocketConstructorLike, WebSocketLike } from "./types.js";

export interface SessionOptions {
  url: string;
  WebSocket: WebSocketConstructorLike;
  /** Longest wait from construction to the gateway's SETTINGS. */
  connectTimeoutMs: number;
  /** Our receive window per stream (announced as INITIAL_STREAM_WINDOW). */
  streamWindow: number;
  /** Our receive window per socket (announced as INITIAL_CONNECTION_WINDOW). */
  connectionWindow: number;
  /** Announce FRAME_BATCHES: several frames per message both ways, if the gateway does too. */
  batchFrames: boolean;
}

/** What a session reports to its owner. Each callback may open or cancel streams. */
export interface SessionEvents {
  /** The gateway's SETTINGS arrived: streams may open. */
  ready(session: TunnelSession): void;
  /** A stream closed: a slot may have come free. */
  streamClosed(session: TunnelSession): void;
  /**
   * The session takes no new streams (GOAWAY, or stream ids ran out). `unaccepted` are the
   * calls the gateway never processed; they were removed from this session and may run
   * again elsewhere.
   */
  draining(session: TunnelSession, unaccepted: StreamInit[]): void;
  /** The socket is gone (lost, or closed by us); every stream on it has failed. Once. */
  closed(session: TunnelSession, error: TunnelError, wasReady: boolean): void;
}

export type SessionState = "connecting" | "open" | "draining" | "closed";

const OPEN = 1; // WebSocket.OPEN

/**
 * Runs `fn` in a task of its own, right after this one: `setImmediate` in Node, a
 * MessageChannel message in browsers (the quickest task there; a 0 ms timer may be
 * clamped).
 */
function afterThisTask(fn: () => void): void {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (immediate) {
    immediate(fn);
    return;
  }
  taskQueue.push(fn);
  if (taskQueue.length > 1) return;
  if (!taskChannel) {
    taskChannel = new MessageChannel();
    taskChannel.port1.onmessage = () => {
      for (const f of taskQueue.splice(0)) f();
    };
  }
  taskChannel.port2.postMessage(null);
}
const taskQueue: Array<() => void> = [];
let taskChannel: MessageChannel | undefined;

export class TunnelSession implements StreamHost {
  private _state: SessionState = "connecting";
  private ws: WebSocketLike | null = null;
  private peer: Settings | null = null;
  private readonly streams = new Map<number, ClientStream>();
  private lastStreamId = 0;
  private readonly receiveWindow: ReceiveWindow;
  private sendWindow = new SendWindow(0);
  private readonly limits: DecodeLimits = DEFAULT_DECODE_LIMITS;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = Date.now();
  /** The socket is corked until the end of this event-loop turn (Node only). */
  private corked = false;
  /** What this end announces as FRAME_BATCHES. */
  private get frameBatches(): number {
    return this.options.batchFrames ? 1 : 0;
  }
  /** Both ends announced FRAME_BATCHES: the frames of one task go out packed (protocol/batch.ts). */
  private batching = false;
  /** Encoded frames waiting for the end of this task (when batching). */
  private outbox: Uint8Array[] = [];
  /** Set by a GOAWAY with an error code: why the streams still open will fail. */
  private goawayError: TunnelError | null = null;

  constructor(
    private readonly options: SessionOptions,
    private readonly events: SessionEvents,
  ) {
    this.receiveWindow = new ReceiveWindow(options.connectionWindow);
    this.connectTimer = setTimeout(() => {
      this.close(unreachableError(`no tunnel connection to ${options.url} within ${options.connectTimeoutMs} ms (connectTimeoutMs)`));
    }, options.connectTimeoutMs);
    try {
      const ws = new options.WebSocket(options.url, SUBPROTOCOL);
      ws.binaryType = "arraybuffer";
      ws.addEventListener("open", () => this.onOpen());
      ws.addEventListener("message", (event: { data: unknown }) => this.onMessage(event.data));
      ws.addEventListener("close", (event: { code?: number; reason?: string }) => this.onSocketClose(event));
      ws.addEventListener("error", (event: { message?: string; error?: unknown }) => this.onSocketError(event));
      this.ws = ws;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      // Report after the constructor returned, like a socket that failed to connect.
      queueMicrotask(() => this.close(unreachableError(`cannot open a WebSocket to ${options.url}: ${why}`)));
    }
  }

  get state(): SessionState {
    return this._state;
  }

  /** True when a new stream may open now. */
  get canOpen(): boolean {
    return this._state === "open" && this.streams.size < this.peer!.maxConcurrentStreams;
  }

  /** Streams counted against the gateway's MAX_CONCURRENT_STREAMS. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** The gateway's settings, once received. */
  get settings(): Readonly<Settings> | null {
    return this.peer;
  }

  /** @internal StreamHost */
  get maxFramePayload(): number {
    return this.peer!.maxFramePayload;
  }

  /** @internal StreamHost */
  get connectionSendWindow(): SendWindow {
    return this.sendWindow;
  }

  /** Opens a stream for `init`. Only while `canOpen`. */
  open(init: StreamInit): ClientStream {
    if (!this.canOpen) throw new Error(`TunnelSession.open called while the session cannot open streams (state ${this._state})`);
    const id = ++this.lastStreamId;
    const stream = new ClientStream(id, this, init, this.peer!.initialStreamWindow, this.options.streamWindow);
    this.streams.set(id, stream);
    stream.start();
    if (id === MAX_STREAM_ID && this._state === "open") {
      // Ids never wrap: this socket takes no more streams.
      this._state = "draining";
      this.events.draining(this, []);
    }
    return stream;
  }

  /**
   * Closes the socket: every stream fails with `error`. With `goaway`, a GOAWAY frame tells
   * the gateway why first.
   */
  close(error: TunnelError, goaway?: { code: number; message: string }): void {
    if (this._state === "closed") return;
    const wasReady = this.peer !== null;
    this._state = "closed";
    clearTimeout(this.connectTimer);
    clearInterval(this.keepaliveTimer);
    const ws = this.ws;
    if (ws) {
      if (goaway && ws.readyState === OPEN) {
        this.sendNow({ kind: "goaway", lastStreamId: 0, code: goaway.code, message: goaway.message });
      }
      this.flush();
      try {
        // Browsers accept only 1000 or 3000-4999 from script.
        ws.close(1000, goaway ? errorCodeName(goaway.code) : "client closed");
      } catch {
        // already closing
      }
    }
    for (const stream of [...this.streams.values()]) stream.fail(error);
    this.streams.clear();
    this.events.closed(this, error, wasReady);
  }

  /** @internal StreamHost */
  send(frame: Frame): void {
    if (this._state === "closed") return;
    this.sendNow(frame);
  }

  /** @internal StreamHost */
  releaseConnection(n: number): void {
    if (this._state === "closed") return;
    const increment = this.receiveWindow.release(n);
    if (increment > 0) this.sendNow({ kind: "window-update", streamId: 0, increment });
  }

  /** @internal StreamHost */
  streamClosed(stream: ClientStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    if (this._state === "closed") return;
    this.events.streamClosed(this);
    this.closeIfDrained();
  }

  private sendNow(frame: Frame): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    if (traceHook) traceFrame("w.out", frame);
    if (this.batching) {
      // A call's frames (HEADERS, its body's DATA, the end; and those of every call made in
      // this task) leave as one message: each message costs the browser a send of its own.
      // Connect-ES hands a body over as an iterable, a few microtasks per chunk, so the
      // outbox waits for the end of the task, not of the current microtask.
      if (this.outbox.push(encodeFrame(frame)) === 1) afterThisTask(this.flush);
      return;
    }
    this.corkForTurn(ws);
    ws.send(encodeFrame(frame));
  }

  /** Sends the frames waiting in the outbox, packed into as few messages as fit. */
  private readonly flush = (): void => {
    if (this.outbox.length === 0) return;
    const frames = this.outbox;
    this.outbox = [];
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    this.corkForTurn(ws);
    for (const { message } of packFrames(frames, this.peer!.maxFramePayload)) ws.send(message);
  };

  /**
   * Node with the `ws` package: corks its socket until the end of this event-loop turn, so
   * a call's HEADERS and DATA leave in one write and reach the gateway in one read. `ws`
   * keeps the net.Socket in `_socket`; browsers have none, and nothing happens there.
   */
  private corkForTurn(ws: WebSocketLike): void {
    if (this.corked) return;
    const socket = (ws as { _socket?: { cork?: () => void; uncork?: () => void } })._socket;
    const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
    if (typeof socket?.cork !== "function" || typeof socket.uncork !== "function" || !immediate) return;
    this.corked = true;
    socket.cork();
    immediate(() => {
      this.corked = false;
      socket.uncork!();
    });
  }

  private onOpen(): void {
    if (this._state === "closed") return;
    const protocol = this.ws!.protocol;
    if (protocol !== SUBPROTOCOL) {
      this.close(
        unreachableError(
          `the server at ${this.options.url} did not accept the ${SUBPROTOCOL} subprotocol (got ${JSON.stringify(protocol)}); is it an swtunnel gateway?`,
        ),
      );
      return;
    }
    this.sendNow({
      kind: "settings",
      settings: {
        version: PROTOCOL_VERSION,
        maxConcurrentStreams: 0,
        initialStreamWindow: this.options.streamWindow,
        initialConnectionWindow: this.options.connectionWindow,
        maxFramePayload: this.limits.maxFramePayload,
        pingIntervalMs: 0,
        frameBatches: this.frameBatches,
      },
    });
  }

  private onSocketClose(event: { code?: number; reason?: string }): void {
    if (this._state === "closed") return;
    const why = `code ${event.code ?? "?"}${event.reason ? `: ${event.reason}` : ""}`;
    this.close(this.lostError(`the tunnel socket closed (${why})`, `could not connect to ${this.options.url} (${why})`));
  }

  private onSocketError(event: { message?: string; error?: unknown }): void {
    if (this._state === "closed") return;
    const detail = event.message || (event.error instanceof Error ? event.error.message : "") || "socket error";
    this.close(this.lostError(`the tunnel socket failed: ${detail}`, `could not connect to ${this.options.url}: ${detail}`));
  }

  /** Why the socket went: the gateway's GOAWAY reason, a lost socket, or a failed connect. */
  private lostError(lost: string, unreachable: string): TunnelError {
    if (this.goawayError) return this.goawayError;
    return this.peer ? socketLostError(lost) : unreachableError(unreachable);
  }

  private onMessage(data: unknown): void {
    if (this._state === "closed") return;
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else
      return this.protocolError(
        new ProtocolError(ErrorCode.PROTOCOL_ERROR, "received a text message; every tunnel frame is a binary message"),
      );
    this.lastFrameAt = Date.now();
    if (this.batching && isBatch(bytes)) {
      let frames: Uint8Array[];
      try {
        frames = splitBatch(bytes, this.limits.maxFramePayload);
      } catch (e) {
        if (e instanceof ProtocolError) return this.protocolError(e);
        throw e;
      }
      // A frame that closes the session (a socket error, GOAWAY) stops the rest.
      for (const f of frames) if (!this.onFrameBytes(f)) return;
      return;
    }
    this.onFrameBytes(bytes);
  }

  /** Decodes and handles one frame (a whole message, or an entry of a BATCH); false once the session closed. */
  private onFrameBytes(bytes: Uint8Array): boolean {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, "server", this.limits);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      const stream = e.streamId !== 0 ? this.streams.get(e.streamId) : undefined;
      if (stream) stream.protocolError(e);
      else if (e.streamId === 0 || e.streamId > this.lastStreamId) this.protocolError(e); // else a closed stream: ignored
      return this.isOpen();
    }
    if (traceHook) traceFrame("w.in", frame);
    try {
      this.dispatch(frame);
    } catch (e) {
      if (e instanceof ProtocolError) this.protocolError(e);
      else throw e;
    }
    return this.isOpen();
  }

  private isOpen(): boolean {
    return this._state !== "closed";
  }

  private dispatch(frame: Frame): void {
    if (!this.peer) {
      if (frame.kind !== "settings")
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `expected SETTINGS as the gateway's first frame, got ${frame.kind}`);
      return this.onSettings(frame.settings);
    }
    switch (frame.kind) {
      case "settings":
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "second SETTINGS frame; settings never change during a socket's life");
      case "response-headers":
      case "trailers":
      case "rst":
      case "data": {
        if (frame.kind === "data") this.receiveWindow.receive(frame.data.length);
        const stream = this.streamFor(frame.streamId, frame.kind);
        if (stream) stream.receive(frame);
        // DATA for a closed stream still used socket window: hand the credit back.
        else if (frame.kind === "data" && frame.data.length > 0) this.releaseConnection(frame.data.length);
        return;
      }
      case "window-update": {
        if (frame.streamId === 0) {
          this.sendWindow.credit(frame.increment);
          for (const stream of [...this.streams.values()]) stream.wake();
          return;
        }
        this.streamFor(frame.streamId, frame.kind)?.windowUpdate(frame.increment);
        return;
      }
      case "ping":
        this.sendNow({ kind: "pong", data: frame.data });
        return;
      case "pong":
        return; // we send no PINGs; an unsolicited PONG is harmless
      case "goaway":
        return this.onGoaway(frame);
      case "request-headers":
      case "unknown":
        return; // unknown frame types are ignored (request HEADERS cannot decode from a server)
    }
  }

  /** The open stream `id`, or undefined when the frame raced its end; PROTOCOL_ERROR for ids never opened. */
  private streamFor(id: number, kind: string): ClientStream | undefined {
    const stream = this.streams.get(id);
    if (stream) return stream;
    if (id > this.lastStreamId)
      throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `${kind} frame for stream ${id}, which the client never opened`);
    return undefined;
  }

  private onSettings(partial: Partial<Settings>): void {
    const settings = resolveSettings(partial);
    if (settings.version !== PROTOCOL_VERSION) {
      const message = `the gateway speaks tunnel protocol version ${settings.version}; this client speaks version ${PROTOCOL_VERSION}`;
      this.close(unreachableError(message), { code: ErrorCode.UNSUPPORTED_VERSION, message });
      return;
    }
    this.peer = settings;
    this.batching = batchesInUse({ frameBatches: this.frameBatches }, settings);
    this.sendWindow = new SendWindow(settings.initialConnectionWindow);
    clearTimeout(this.connectTimer);
    this._state = "open";
    this.startKeepalive(settings.pingIntervalMs);
    this.events.ready(this);
  }

  private onGoaway(frame: GoawayFrame): void {
    const unaccepted: StreamInit[] = [];
    for (const stream of [...this.streams.values()]) {
      if (unprocessedBy(frame.lastStreamId, stream.id)) {
        stream.detach();
        unaccepted.push(stream.init);
      }
    }
    const wasOpen = this._state === "open";
    if (wasOpen) this._state = "draining";
    if (wasOpen || unaccepted.length > 0) this.events.draining(this, unaccepted);
    if (frame.code !== ErrorCode.NO_ERROR) {
      // The gateway closes right after a non-graceful GOAWAY; streams still here fail
      // with its code and reason rather than a bare "socket closed".
      this.goawayError = resetError(frame.code, `the tunnel gateway closed the socket (${errorCodeName(frame.code)}): ${frame.message}`);
    }
    this.closeIfDrained();
  }

  private closeIfDrained(): void {
    if (this._state === "draining" && this.streams.size === 0) {
      this.close(this.goawayError ?? socketLostError("the socket was drained"));
    }
  }

  /** The gateway broke a socket-level rule: GOAWAY PROTOCOL_ERROR (or the error's code) and close. */
  private protocolError(e: ProtocolError): void {
    const message = `tunnel gateway protocol violation (${errorCodeName(e.code)}): ${e.message}`;
    this.close(new TunnelError(message, Code.Internal), { code: e.code, message: e.message });
  }

  /** The gateway pings every pingIntervalMs; silence for two intervals means the socket is dead. */
  private startKeepalive(pingIntervalMs: number): void {
    if (pingIntervalMs <= 0) return;
    const limit = 2 * pingIntervalMs + 1_000;
    this.keepaliveTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > limit) {
        this.close(socketLostError(`no frame from the gateway for ${limit} ms although it pings every ${pingIntervalMs} ms`));
      }
    }, pingIntervalMs);
    // Node: do not keep the process alive for the watchdog alone.
    (this.keepaliveTimer as { unref?: () => void }).unref?.();
  }
}
