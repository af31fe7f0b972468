/**
 * One tunnel socket: the SETTINGS exchange, frame demultiplexing, the stream table,
 * socket-level flow control, keepalive, idle timeout and drain. Follows the session
 * rules of docs/PROTOCOL.md; socket errors end in GOAWAY + close, stream errors in
 * RST_STREAM, and nothing here affects other sockets. Memory held for a client is bounded
 * by the gateway's caps (bytes queued per socket and per stream, unwritten control frames,
 * stream errors), never by the windows the client announces.
 */
import type { WebSocket, RawData } from "ws";
import {
  ErrorCode,
  FrameType,
  PROTOCOL_VERSION,
  ProtocolError,
  ReceiveWindow,
  SendWindow,
  batchesInUse,
  decodeFrame,
  encodeFrame,
  errorCodeName,
  isBatch,
  packFrames,
  resolveSettings,
  splitBatch,
  type DecodeLimits,
  type Frame,
  type Settings,
} from "../protocol/index.js";
import { checkService } from "./admission.js";
import type { GatewayContext } from "./context.js";
import { checkRequestHead } from "./request-head.js";
import { TunnelStream, type StreamHost } from "./stream.js";
import { traceFrame, traceHook } from "../protocol/trace.js";

/** Keepalive: GOAWAY KEEPALIVE_TIMEOUT once this many PINGs in a row went unanswered. */
const MAX_MISSED_PINGS = 2;

/** Frames the gateway queues in reply to the client's frames; their unwritten count is capped. */
const CONTROL_REPLIES: ReadonlySet<Frame["kind"]> = new Set(["pong", "rst", "window-update"]);

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

export class TunnelConnection implements StreamHost {
  readonly connectionSendWindow = new SendWindow(0);
  peer: Settings = resolveSettings({});
  private readonly receiveWindow: ReceiveWindow;
  private readonly streams = new Map<number, TunnelStream>();
  private readonly limits: DecodeLimits;
  private settingsReceived = false;
  private highestId = 0;
  /** GOAWAY sent: no new streams. */
  private goingAway = false;
  private closed = false;
  private missedPings = 0;
  /** The WebSocket ended (its 'close' event, or terminate()); the socket's slot is free. */
  private released = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private settingsTimer: NodeJS.Timeout | undefined;
  private readonly onClosed: Array<() => void> = [];
  /** Control replies handed to ws and not yet written to the TCP socket. */
  private queuedControl = 0;
  /** Stream errors the client caused so far (see maxStreamErrorsPerSocket). */
  private streamErrors = 0;
  /** The socket is corked until the end of this event-loop turn. */
  private corked = false;
  /** Bytes queued unwritten when this turn's cork began: the backlog the kernel did not take. */
  private backlogAtCork = 0;
  /** An end of turn is scheduled (it sends the outbox and uncorks). */
  private turnScheduled = false;
  /** Both ends announced FRAME_BATCHES: a turn's frames go out packed (protocol/batch.ts). */
  private batching = false;
  /** Encoded frames of this turn waiting to be packed, with what runs once each is written. */
  private outbox: Array<{ bytes: Uint8Array; written: () => void }> = [];
  private readonly endOfTurn = () => {
    this.turnScheduled = false;
    this.flushOutbox();
    if (this.corked) {
      this.corked = false;
      this.socket!.uncork();
    }
  };
  /** Streams waiting for the socket's queued bytes to fall under maxSocketBufferedBytes. */
  private readonly outputWaiters = new Set<() => void>();
  streamsTotal = 0;

  constructor(
    readonly ctx: GatewayContext,
    private readonly ws: WebSocket,
    readonly remote: string,
    /** `x-forwarded-for` toward the backend: the client, then trusted proxies (server/client-address.ts). */
    private readonly forwardedFor = remote,
    /**
     * The upgraded socket under `ws`: corked from a turn's first frame to the end of the
     * turn, so the frames of that turn (a response's HEADERS, DATA and TRAILERS; the
     * replies to many streams) leave in one write instead of one syscall and packet each.
     */
    private readonly socket?: { cork(): void; uncork(): void },
  ) {
    const o = ctx.options;
    this.limits = { maxFramePayload: o.maxFramePayload, maxHeaderBlockBytes: o.maxHeaderBlockBytes };
    this.receiveWindow = new ReceiveWindow(o.connectionWindow);
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("close", () => this.release());
    ws.on("error", (err) => ctx.log.debug({ remote, err: err.message }, "socket error"));
    this.send({
      kind: "settings",
      settings: {
        version: PROTOCOL_VERSION,
        maxConcurrentStreams: o.maxStreamsPerSocket,
        initialStreamWindow: o.streamWindow,
        initialConnectionWindow: o.connectionWindow,
        maxFramePayload: o.maxFramePayload,
        pingIntervalMs: o.pingIntervalMs,
        frameBatches: 1,
      },
    });
    if (o.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.keepalive(), o.pingIntervalMs);
      this.pingTimer.unref();
    }
    this.armIdle();
    const settingsMs = o.settingsTimeoutMs;
    this.settingsTimer = setTimeout(() => {
      if (!this.settingsReceived)
        this.goaway(ErrorCode.PROTOCOL_ERROR, `no SETTINGS within ${settingsMs} ms of the upgrade; SETTINGS must be the first frame`);
    }, settingsMs);
    this.settingsTimer.unref();
  }

  /** Open streams. */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** Runs `fn` once the WebSocket has ended (after a GOAWAY, once its bytes were written or given up). */
  whenClosed(fn: () => void): void {
    if (this.released) fn();
    else this.onClosed.push(fn);
  }

  /** Bytes queued for this socket and not yet written (ws `bufferedAmount`). */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** True while the socket's queued bytes are at maxSocketBufferedBytes: DATA must wait. */
  get outputFull(): boolean {
    return this.ws.bufferedAmount >= this.ctx.options.maxSocketBufferedBytes;
  }

  /** Calls `fn` once the socket's queue fell under the cap (or the socket closed). */
  whenOutputDrains(fn: () => void): void {
    if (this.closed || !this.outputFull) fn();
    else this.outputWaiters.add(fn);
  }

  /** Streams waiting for their queued output to be written (a buffered-bytes cap was reached). */
  get streamsWaitingForOutput(): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.waitingForOutput) n++;
    return n;
  }

  /** Starts a graceful drain: GOAWAY NO_ERROR, accepted streams finish, then close. */
  drain(message = "gateway is draining; open new streams on a new socket"): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.send({ kind: "goaway", lastStreamId: this.highestId, code: ErrorCode.NO_ERROR, message });
    if (this.streams.size === 0) {
      this.flushOutbox();
      this.ws.close(1001, "draining");
    }
  }

  /** Ends the socket now, abandoning open streams (after a drain timed out). */
  terminate(): void {
    this.ws.terminate();
    this.cleanup();
    this.release();
  }

  /**
   * Queues one frame; `written` runs once ws wrote it to the TCP socket (or gave up). False
   * once the socket is gone. Control replies over maxQueuedControlFrames end the socket.
   */
  send(frame: Frame, written?: () => void): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    const control = CONTROL_REPLIES.has(frame.kind);
    if (control && this.queuedControl >= this.ctx.options.maxQueuedControlFrames) {
      this.goaway(
        ErrorCode.ENHANCE_YOUR_CALM,
        `more than ${this.ctx.options.maxQueuedControlFrames} control frames (PONG, RST_STREAM, WINDOW_UPDATE) wait unwritten; read the socket`,
      );
      return false;
    }
    const bytes = encodeFrame(frame);
    let queued = false;
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      if (this.socket) {
        this.corked = true;
        this.backlogAtCork = this.ws.bufferedAmount;
        this.socket.cork();
      }
      setImmediate(this.endOfTurn);
    }
    const onWritten = () => {
      if (queued) this.queuedControl--;
      written?.();
      if (this.outputWaiters.size > 0 && !this.outputFull) this.wakeOutput();
    };
    if (this.batching) this.outbox.push({ bytes, written: onWritten });
    else this.ws.send(bytes, onWritten);
    if (traceHook) traceFrame("g.out", frame);
    // Counted only while it waits in the gateway's queue: a reply the kernel took at once is
    // not. Under the turn's cork every byte waits until the turn ends; what counts then is
    // whether the kernel had left earlier bytes unwritten.
    if (control && (this.corked ? this.backlogAtCork > 0 : this.ws.bufferedAmount > 0)) {
      queued = true;
      this.queuedControl++;
    }
    const { metrics } = this.ctx;
    metrics.frame(frame.kind, "out", bytes.length);
    return true;
  }

  /** Sends this turn's frames, packed into as few messages as the client's MAX_FRAME_PAYLOAD allows. */
  private flushOutbox(): void {
    if (this.outbox.length === 0) return;
    const items = this.outbox;
    this.outbox = [];
    let at = 0;
    for (const { message, count } of packFrames(
      items.map((i) => i.bytes),
      this.peer.maxFramePayload,
    )) {
      const group = items.slice(at, at + count);
      at += count;
      this.ws.send(message, () => {
        for (const i of group) i.written();
      });
    }
  }

  private wakeOutput(): void {
    const waiters = [...this.outputWaiters];
    this.outputWaiters.clear();
    for (const w of waiters) w();
  }

  releaseConnection(n: number, now = false): void {
    if (n === 0) return;
    const increment = now ? this.receiveWindow.releaseNow(n) : this.receiveWindow.release(n);
    if (increment > 0) this.send({ kind: "window-update", streamId: 0, increment });
  }

  /** Counts one stream error the client caused; past the budget the socket ends. */
  streamErrorByClient(): void {
    if (++this.streamErrors <= this.ctx.options.maxStreamErrorsPerSocket) return;
    this.goaway(
      ErrorCode.ENHANCE_YOUR_CALM,
      `more than ${this.ctx.options.maxStreamErrorsPerSocket} stream errors caused by this client; fix the client's frames`,
    );
  }

  streamClosed(stream: TunnelStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.ctx.metrics.streamsActive.dec();
    if (this.streams.size === 0) {
      if (this.goingAway) {
        this.flushOutbox();
        this.ws.close(1001, "drained");
      } else this.armIdle();
    }
  }

  /** Socket-level error: GOAWAY with the code, then close. */
  goaway(code: ErrorCode, message: string): void {
    if (this.closed) return;
    const name = errorCodeName(code);
    this.ctx.metrics.errors.inc({ code: name });
    this.ctx.log.info({ remote: this.remote, code: name, message }, "socket error; sending GOAWAY");
    this.send({ kind: "goaway", lastStreamId: this.highestId, code, message });
    this.goingAway = true;
    for (const s of [...this.streams.values()]) s.abandon();
    const wsCode = code === ErrorCode.IDLE_TIMEOUT || code === ErrorCode.KEEPALIVE_TIMEOUT ? 1001 : 1002;
    this.flushOutbox();
    this.ws.close(wsCode, name);
    this.cleanup();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.settingsTimer);
    for (const s of [...this.streams.values()]) s.abandon();
    this.wakeOutput();
  }

  /** The WebSocket is gone: the socket no longer holds memory or a slot. */
  private release(): void {
    this.cleanup();
    if (this.released) return;
    this.released = true;
    for (const fn of this.onClosed.splice(0)) fn();
  }

  private keepalive(): void {
    if (this.missedPings >= MAX_MISSED_PINGS) {
      this.goaway(ErrorCode.KEEPALIVE_TIMEOUT, `no PONG for ${MAX_MISSED_PINGS} PINGs sent ${this.ctx.options.pingIntervalMs} ms apart`);
      return;
    }
    this.missedPings++;
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat64(0, Date.now());
    this.send({ kind: "ping", data });
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    const ms = this.ctx.options.idleTimeoutMs;
    if (ms <= 0 || this.closed) return;
    this.idleTimer = setTimeout(() => {
      if (this.streams.size === 0) this.goaway(ErrorCode.IDLE_TIMEOUT, `no open stream for ${ms} ms`);
    }, ms);
    this.idleTimer.unref();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const bytes = toBytes(data);
    this.ctx.metrics.countBytes("in", bytes.length);
    if (!isBinary) {
      this.goaway(ErrorCode.PROTOCOL_ERROR, "text WebSocket message; every frame must be a binary message");
      return;
    }
    if (this.batching && isBatch(bytes)) {
      let frames: Uint8Array[];
      try {
        frames = splitBatch(bytes, this.limits.maxFramePayload);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.ctx.metrics.frame("invalid", "in");
        this.goaway(err.code, err.message);
        return;
      }
      // A frame that ends the socket (a socket error) stops the rest.
      for (const f of frames) if (!this.closed) this.onFrameBytes(f);
      return;
    }
    this.onFrameBytes(bytes);
  }

  /** Decodes and handles one frame (a whole message, or an entry of a BATCH). */
  private onFrameBytes(bytes: Uint8Array): void {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, "client", this.limits);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.ctx.metrics.frame("invalid", "in");
      this.onDecodeError(err, bytes[0]!);
      return;
    }
    this.ctx.metrics.frame(frame.kind, "in");
    if (traceHook) traceFrame("g.in", frame);
    try {
      this.onFrame(frame);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.goaway(err.code, err.message);
    }
  }

  private onDecodeError(err: ProtocolError, type: number): void {
    if (err.streamId === 0 || !this.settingsReceived) {
      this.goaway(err.code, this.settingsReceived ? err.message : `first frame is not valid SETTINGS: ${err.message}`);
      return;
    }
    const id = err.streamId;
    if (type === FrameType.HEADERS) {
      // A malformed request still uses up its id, so the ordering rule applies first.
      if (id <= this.highestId) {
        this.goaway(ErrorCode.PROTOCOL_ERROR, `HEADERS for stream ${id}, not greater than the highest id ${this.highestId}`);
        return;
      }
      this.highestId = id;
      this.refuse(id, err.code, err.message);
      return;
    }
    const stream = this.streams.get(id);
    if (stream) stream.reset(err.code, err.message, true);
    else if (id > this.highestId)
      this.goaway(ErrorCode.PROTOCOL_ERROR, `frame for stream ${id}, above the highest opened id ${this.highestId}`);
  }

  /** RST_STREAM for a stream that never entered the table; `byClient` counts it against the error budget. */
  private refuse(id: number, code: ErrorCode, message: string, byClient = true): void {
    if (code !== ErrorCode.REFUSED_STREAM)
      this.ctx.log.info({ remote: this.remote, stream: id, code: errorCodeName(code), message }, "stream refused");
    this.ctx.metrics.errors.inc({ code: errorCodeName(code) });
    if (this.send({ kind: "rst", streamId: id, code, message }) && byClient) this.streamErrorByClient();
  }

  private onFrame(frame: Frame): void {
    if (!this.settingsReceived) {
      if (frame.kind !== "settings") throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `first frame must be SETTINGS, got ${frame.kind}`);
      this.settingsReceived = true;
      clearTimeout(this.settingsTimer);
      this.peer = resolveSettings(frame.settings);
      if (this.peer.version !== PROTOCOL_VERSION) {
        throw new ProtocolError(
          ErrorCode.UNSUPPORTED_VERSION,
          `client speaks protocol version ${this.peer.version}; this gateway speaks version ${PROTOCOL_VERSION} only`,
        );
      }
      this.connectionSendWindow.credit(this.peer.initialConnectionWindow);
      this.batching = batchesInUse({ frameBatches: 1 }, this.peer);
      return;
    }
    switch (frame.kind) {
      case "settings":
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "second SETTINGS frame; settings never change during a socket's life");
      case "request-headers":
        return this.onRequestHeaders(frame);
      case "data": {
        // Socket-level accounting first: a window overrun is a socket error.
        this.receiveWindow.receive(frame.data.length);
        const stream = this.streams.get(frame.streamId);
        if (stream) return stream.onData(frame.data, frame.endStream);
        this.checkKnown(frame.streamId);
        this.releaseConnection(frame.data.length, true); // raced a reset: credit goes back at once (8.2)
        return;
      }
      case "window-update": {
        if (frame.streamId === 0) {
          this.connectionSendWindow.credit(frame.increment);
          for (const s of this.streams.values()) s.wakeWindow();
          return;
        }
        const stream = this.streams.get(frame.streamId);
        if (stream) return stream.onWindowUpdate(frame.increment);
        return this.checkKnown(frame.streamId);
      }
      case "rst": {
        const stream = this.streams.get(frame.streamId);
        if (stream) return stream.onReset(frame.code, frame.message);
        return this.checkKnown(frame.streamId);
      }
      case "ping":
        this.send({ kind: "pong", data: frame.data });
        return;
      case "pong":
        this.missedPings = 0;
        return;
      case "goaway":
        // The client is leaving; it opens no more streams here. Nothing to do until it closes.
        this.ctx.log.debug({ remote: this.remote, code: errorCodeName(frame.code), message: frame.message }, "client sent GOAWAY");
        return;
      case "unknown":
        return; // extension frames are ignored
      default:
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `unexpected ${frame.kind} frame from a client`);
    }
  }

  /** Frames for a stream not in the table: ignored at or below the highest id, an error above. */
  private checkKnown(id: number): void {
    if (id > this.highestId)
      throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `frame for stream ${id}, above the highest opened id ${this.highestId}`);
  }

  private onRequestHeaders(frame: Frame & { kind: "request-headers" }): void {
    const id = frame.streamId;
    if (id <= this.highestId) {
      throw new ProtocolError(
        ErrorCode.PROTOCOL_ERROR,
        `HEADERS for stream ${id}, not greater than the highest id ${this.highestId}; ids are never reused`,
      );
    }
    this.highestId = id;
    const o = this.ctx.options;
    if (this.goingAway) return this.refuse(id, ErrorCode.REFUSED_STREAM, "gateway is draining; retry on a new socket", false);
    if (this.streams.size >= o.maxStreamsPerSocket) {
      return this.refuse(id, ErrorCode.REFUSED_STREAM, `more than ${o.maxStreamsPerSocket} concurrent streams; wait for one to end`);
    }
    const forbidden = checkService(frame.path, o.allowServices);
    if (forbidden) return this.refuse(id, ErrorCode.FORBIDDEN, forbidden);
    const head = checkRequestHead(frame.headers, o, this.forwardedFor);
    if (!Array.isArray(head)) return this.refuse(id, head.code, head.message);
    const stream = new TunnelStream(this, { ...frame, headers: head });
    this.streams.set(id, stream);
    this.streamsTotal++;
    clearTimeout(this.idleTimer);
    this.ctx.metrics.streamsActive.inc();
    this.ctx.metrics.streamsTotal.inc();
    void stream.run();
  }
}
