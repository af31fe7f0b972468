/**
 * One tunnel stream: the request frames become a ProxyRequest whose body is fed by DATA
 * frames (window credit is returned only as the upstream consumes them), and the
 * ProxyResponse goes back as HEADERS, DATA cut to the peer's frame size and sent only
 * within the send windows (the next body chunk is pulled only when there is credit, and
 * only while the socket and the stream have less than their caps queued unwritten), and
 * TRAILERS. Deadlines (the request's, the gateway's maximum call duration, the stream idle
 * timeout) end the stream with DEADLINE_EXCEEDED in the client's protocol before the
 * response head went out, and with RST_STREAM CANCEL after it.
 */
import {
  ErrorCode,
  IDLE_STREAM,
  type ProtocolError,
  ReceiveWindow,
  SendWindow,
  errorCodeName,
  isStreamClosed,
  nextStreamState,
  type Frame,
  type HeaderList,
  type RequestHeadersFrame,
  type Settings,
  type StreamEvent,
  type StreamState,
} from "../protocol/index.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorResponse } from "./adapters/client-protocol.js";
import { grpcStatusFields } from "./adapters/grpc-status.js";
import { CallObserver } from "./call-observer.js";
import type { GatewayContext } from "./context.js";
import { callDeadline } from "./deadline.js";
import type { ProxyRequest, ProxyResponse } from "./exchange.js";
import { EMPTY_BODY, bodyOf } from "./body.js";
import { isGrpc, isGrpcWeb } from "./content-type.js";
import { asUpstreamError, grpcErrorHeaders, resetCodeFor } from "./errors.js";
import { MessageLimit, isEnveloped } from "./message-limit.js";

/** What a stream needs from its connection. */
export interface StreamHost {
  readonly ctx: GatewayContext;
  /** The client's address (logs and spans). */
  readonly remote: string;
  /** The client's settings. */
  readonly peer: Settings;
  /** Socket-level send credit, shared by all streams. */
  readonly connectionSendWindow: SendWindow;
  /** Sends one frame (`written` runs once it left the gateway's queue); false once the socket is gone. */
  send(frame: Frame, written?: () => void): boolean;
  /** Returns socket-level receive credit for `n` consumed bytes (`now`: at once, below the threshold too). */
  releaseConnection(n: number, now?: boolean): void;
  /** True while the socket has maxSocketBufferedBytes or more queued unwritten. */
  readonly outputFull: boolean;
  /** Calls `fn` once the socket's queue fell under its cap, or the socket closed. */
  whenOutputDrains(fn: () => void): void;
  /** Counts a stream error the client caused against the socket's error budget. */
  streamErrorByClient(): void;
  /** Called once when the stream is fully closed. */
  streamClosed(stream: TunnelStream): void;
}

const encoder = new TextEncoder();

function header(headers: HeaderList, name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

export class TunnelStream {
  readonly id: number;
  private state: StreamState = IDLE_STREAM;
  private readonly sendWindow: SendWindow;
  private readonly receiveWindow: ReceiveWindow;
  private readonly abort = new AbortController();
  private readonly requestLimit: MessageLimit;
  private readonly started = performance.now();
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  /** Wakes the request body reader (data, end or reset). */
  private bodyWaiter: (() => void) | undefined;
  /** Wakes the response writer (window credit or reset). */
  private windowWaiter: (() => void) | undefined;
  /** Wakes the response writer once queued output fell under the caps (or a reset). */
  private outputWaiter: (() => void) | undefined;
  /** This stream's DATA bytes handed to the socket and not yet written. */
  private unwritten = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Resolves the pending upstream call with the deadline's message, once a deadline fired. */
  private expire: ((message: string) => void) | undefined;
  /** The response body's envelopes, once the head went out (gRPC: may trailers still end it?). */
  private responseLimit: MessageLimit | undefined;
  /** True while a response chunk is only partly sent. */
  private midChunk = false;
  private finished = false;
  private outcome = "unknown";
  /** Span, byte counts and the request log line of this call. */
  private readonly call: CallObserver;

  constructor(
    private readonly host: StreamHost,
    private readonly head: RequestHeadersFrame,
  ) {
    this.id = head.streamId;
    this.state = nextStreamState(this.state, { frame: "request-headers", endStream: head.endStream }, this.id);
    this.sendWindow = new SendWindow(host.peer.initialStreamWindow);
    this.receiveWindow = new ReceiveWindow(host.ctx.options.streamWindow);
    this.requestLimit = new MessageLimit(host.ctx.options.maxMessageBytes, isEnveloped(header(head.headers, "content-type") ?? ""));
    this.call = new CallObserver(host.ctx, head, host.remote);
    const o = host.ctx.options;
    const deadline = callDeadline(head.headers, o.maxCallDurationMs);
    if (deadline) {
      this.deadlineTimer = setTimeout(() => this.timeUp(deadline.message), deadline.ms);
      this.deadlineTimer.unref();
    }
    if (o.streamIdleTimeoutMs > 0) {
      const ms = o.streamIdleTimeoutMs;
      this.idleTimer = setTimeout(() => this.timeUp(`no frame on the stream for ${ms} ms (streamIdleTimeoutMs)`), ms);
      this.idleTimer.unref();
    }
  }

  /** A frame went either way: the stream is not idle. */
  private touch(): void {
    this.idleTimer?.refresh();
  }

  /**
   * A deadline passed: the upstream call is cancelled and the client gets DEADLINE_EXCEEDED
   * in its protocol before the response head went out, and for gRPC between messages after
   * it (TRAILERS grpc-status 4); otherwise RST_STREAM CANCEL with the message.
   */
  private timeUp(message: string): void {
    if (this.finished) return;
    this.host.ctx.log.info({ stream: this.id, path: this.head.path, message }, "stream deadline");
    if (this.expire && this.state.response === "idle") {
      this.host.ctx.metrics.errors.inc({ code: "deadline_exceeded" });
      this.expire(message);
      return;
    }
    const grpc = isGrpc(header(this.head.headers, "content-type")); // not gRPC-Web: its status is in the body
    if (this.state.response === "open" && grpc && this.responseLimit?.atBoundary && !this.midChunk) {
      this.host.ctx.metrics.errors.inc({ code: "deadline_exceeded" });
      this.abort.abort();
      const trailers = grpcStatusFields(new ConnectError(message, Code.DeadlineExceeded));
      if (this.sendHead({ kind: "trailers", streamId: this.id, trailers })) {
        this.outcome = "4";
        this.maybeFinish();
      }
      return;
    }
    this.reset(ErrorCode.CANCEL, message);
  }

  /** True once the stream ended or was reset. */
  get closed(): boolean {
    return this.finished;
  }

  /** Request DATA (socket-level credit was already accounted by the connection). */
  onData(data: Uint8Array, endStream: boolean): void {
    this.touch();
    try {
      this.state = nextStreamState(this.state, { frame: "data", direction: "request", endStream }, this.id);
      this.receiveWindow.receive(data.length, this.id);
    } catch (err) {
      this.host.releaseConnection(data.length, true);
      const e = err as ProtocolError;
      this.reset(e.code, e.message, true);
      return;
    }
    const breach = this.requestLimit.push(data);
    if (breach) {
      this.host.releaseConnection(data.length, true);
      this.reset(ErrorCode.MESSAGE_TOO_LARGE, `request ${breach}`, true);
      return;
    }
    this.call.bytesIn += data.length;
    if (data.length > 0) {
      this.queue.push(data);
      this.queuedBytes += data.length;
    }
    this.wakeBody();
    this.maybeFinish();
  }

  onWindowUpdate(increment: number): void {
    this.touch();
    try {
      this.state = nextStreamState(this.state, { frame: "window-update" }, this.id);
      this.sendWindow.credit(increment, this.id);
    } catch (err) {
      const e = err as ProtocolError;
      this.reset(e.code, e.message, true);
      return;
    }
    this.wakeWindow();
  }

  /** The client reset the stream: cancel the upstream call. */
  onReset(code: number, message: string): void {
    if (this.finished) return;
    this.state = { request: "closed", response: "closed", reset: true };
    this.outcome = `client_${errorCodeName(code)}`;
    this.host.ctx.log.debug({ stream: this.id, code: errorCodeName(code), message }, "client reset stream");
    this.close();
  }

  /**
   * Resets the stream from the gateway's side with a code and a message; `byClient` (the
   * client's frames caused it) counts against the socket's error budget.
   */
  reset(code: ErrorCode, message: string, byClient = false): void {
    if (this.finished) return;
    this.state = { request: "closed", response: "closed", reset: true };
    const sent = this.host.send({ kind: "rst", streamId: this.id, code, message });
    if (code !== ErrorCode.NO_ERROR) {
      this.outcome = errorCodeName(code);
      this.host.ctx.metrics.errors.inc({ code: errorCodeName(code) });
      this.host.ctx.log.info({ stream: this.id, path: this.head.path, code: errorCodeName(code), message }, "stream reset");
    }
    this.close();
    if (sent && byClient) this.host.streamErrorByClient();
  }

  /** The socket is gone: cancel everything without sending. */
  abandon(): void {
    if (this.finished) return;
    this.state = { request: "closed", response: "closed", reset: true };
    this.outcome = "socket_lost";
    this.close();
  }

  /** Runs the exchange to its end. Never throws. */
  async run(): Promise<void> {
    const { ctx } = this.host;
    const request: ProxyRequest = {
      method: this.head.method,
      path: this.head.path,
      headers: this.call.headers,
      body: this.requestBody(),
      signal: this.abort.signal,
    };
    const upstreamProtocol = ctx.options.upstreamProtocol;
    const adapter = ctx.adapters.find((a) => a.matches(request, upstreamProtocol));
    let response: ProxyResponse;
    if (!adapter) {
      const type = header(this.head.headers, "content-type") ?? "(none)";
      response = textResponse(
        415,
        `unsupported content-type ${type}; this gateway accepts ${ctx.adapters.map((a) => a.name).join(", ")} requests`,
      );
    } else {
      try {
        // A deadline that fires before the upstream answered wins the race: the client gets
        // DEADLINE_EXCEEDED in its protocol, the abort cancels the upstream call.
        const expired = new Promise<string>((resolve) => (this.expire = resolve));
        const outcome = await Promise.race([adapter.handle(request, ctx.upstream).then((r) => ({ r })), expired]);
        this.expire = undefined;
        if (typeof outcome === "string") {
          this.abort.abort();
          response = errorResponse(request, new ConnectError(outcome, Code.DeadlineExceeded));
          this.outcome = "deadline_exceeded";
        } else {
          response = outcome.r;
        }
      } catch (err) {
        this.expire = undefined;
        if (this.finished) return;
        const e = asUpstreamError(err);
        const grpc = isGrpc(header(this.head.headers, "content-type"));
        if (!grpc || adapter.name !== "grpc") {
          this.reset(resetCodeFor(e), e.message);
          return;
        }
        // gRPC passthrough: a trailers-only response carries the status, as a gRPC server would.
        this.host.ctx.metrics.errors.inc({ code: `grpc_${e.code}` });
        this.host.ctx.log.info({ stream: this.id, path: this.head.path, code: e.code, message: e.message }, "upstream call failed");
        response = { status: 200, headers: grpcErrorHeaders(e), body: EMPTY_BODY, trailers: () => [] };
      }
    }
    await this.respond(response);
  }

  private async respond(response: ProxyResponse): Promise<void> {
    const iterator = response.body[Symbol.asyncIterator]();
    try {
      if (this.finished) return;
      // A gRPC head that carries grpc-status is trailers-only by definition: END_STREAM on it.
      const grpcStatusInHead =
        (isGrpc(header(response.headers, "content-type")) || isGrpcWeb(header(response.headers, "content-type"))) &&
        header(response.headers, "grpc-status") !== undefined;
      const trailersOnly = grpcStatusInHead || (response.body === EMPTY_BODY && response.trailers().length === 0);
      if (
        !this.sendHead({
          kind: "response-headers",
          streamId: this.id,
          status: response.status,
          headers: response.headers,
          endStream: trailersOnly,
        })
      )
        return;
      this.outcome = header(response.headers, "grpc-status") ?? String(response.status);
      if (trailersOnly) {
        if (response.body !== EMPTY_BODY) void iterator.return?.()?.catch(() => {});
        return this.maybeFinish();
      }
      const limit = new MessageLimit(this.host.ctx.options.maxMessageBytes, isEnveloped(header(response.headers, "content-type") ?? ""));
      this.responseLimit = limit;
      for (;;) {
        const next = await iterator.next();
        if (this.finished) return;
        if (next.done) break;
        const breach = limit.push(next.value);
        if (breach) return this.reset(ErrorCode.MESSAGE_TOO_LARGE, `response ${breach}`);
        if (!(await this.sendData(next.value))) return;
      }
      this.outcome = response.rpcStatus?.() ?? this.outcome;
      const trailers = response.trailers();
      if (trailers.length > 0) {
        if (!this.sendHead({ kind: "trailers", streamId: this.id, trailers })) return;
        this.outcome = header(trailers, "grpc-status") ?? this.outcome;
      } else {
        this.transition({ frame: "data", direction: "response", endStream: true });
        this.host.send({ kind: "data", streamId: this.id, endStream: true, data: new Uint8Array(0) });
      }
      this.maybeFinish();
    } catch (err) {
      if (this.finished) return;
      const e = asUpstreamError(err);
      this.reset(resetCodeFor(e), e.message);
    } finally {
      // Stop the upstream when the stream ended early (reset, socket lost, limit).
      if (this.finished && !this.completed()) await iterator.return?.().catch(() => {});
    }
  }

  /** Sends response HEADERS or TRAILERS, if they fit the client's frame size. */
  private sendHead(frame: Frame & { kind: "response-headers" | "trailers" }): boolean {
    this.touch();
    const event: StreamEvent =
      frame.kind === "trailers" ? { frame: "trailers" } : { frame: "response-headers", endStream: frame.endStream };
    this.transition(event);
    const ok = this.host.send(frame);
    if (!ok) this.abandon();
    return ok && !this.finished;
  }

  /** Sends one body chunk as DATA frames within the windows; false if the stream ended meanwhile. */
  private async sendData(chunk: Uint8Array): Promise<boolean> {
    const cap = this.host.ctx.options.maxStreamBufferedBytes;
    this.midChunk = true;
    try {
      return await this.sendChunk(chunk, cap);
    } finally {
      this.midChunk = false;
    }
  }

  private async sendChunk(chunk: Uint8Array, cap: number): Promise<boolean> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.finished) return false;
      // Whatever windows the client announced, queued output stays under the caps: wait for
      // the socket to write, and meanwhile the upstream is not read (HTTP/2 flow control).
      if (this.unwritten >= cap || this.host.outputFull) {
        await new Promise<void>((resolve) => {
          this.outputWaiter = resolve;
          if (this.unwritten < cap) this.host.whenOutputDrains(() => this.wakeOutput());
        });
        continue;
      }
      const credit = Math.min(this.sendWindow.size, this.host.connectionSendWindow.size, this.host.peer.maxFramePayload);
      if (credit <= 0) {
        await new Promise<void>((resolve) => (this.windowWaiter = resolve));
        continue;
      }
      const n = Math.min(credit, chunk.length - offset);
      this.sendWindow.consume(n);
      this.host.connectionSendWindow.consume(n);
      this.transition({ frame: "data", direction: "response", endStream: false });
      this.touch();
      this.unwritten += n;
      const sent = this.host.send({ kind: "data", streamId: this.id, endStream: false, data: chunk.subarray(offset, offset + n) }, () => {
        this.unwritten -= n;
        if (this.unwritten < cap) this.wakeOutput();
      });
      if (!sent) {
        this.abandon();
        return false;
      }
      this.call.bytesOut += n;
      offset += n;
    }
    return true;
  }

  /** Called by the connection when socket-level credit arrived. */
  wakeWindow(): void {
    const w = this.windowWaiter;
    this.windowWaiter = undefined;
    w?.();
  }

  /** True when some stream-level wait for credit is pending. */
  get waitingForWindow(): boolean {
    return this.windowWaiter !== undefined;
  }

  /** True while the stream waits for queued output to be written (a cap was reached). */
  get waitingForOutput(): boolean {
    return this.outputWaiter !== undefined;
  }

  private wakeOutput(): void {
    const w = this.outputWaiter;
    this.outputWaiter = undefined;
    w?.();
  }

  private wakeBody(): void {
    const w = this.bodyWaiter;
    this.bodyWaiter = undefined;
    w?.();
  }

  private async *requestBody(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) {
        this.queuedBytes -= chunk.length;
        // Credit goes back as the upstream takes the bytes, so buffering stays within the window.
        this.host.releaseConnection(chunk.length);
        const increment = this.receiveWindow.release(chunk.length);
        if (increment > 0 && this.state.request === "open") this.host.send({ kind: "window-update", streamId: this.id, increment });
        yield chunk;
        continue;
      }
      if (this.state.reset) throw new Error("the client reset the stream");
      if (this.state.request === "closed") return;
      await new Promise<void>((resolve) => (this.bodyWaiter = resolve));
    }
  }

  private transition(event: StreamEvent): void {
    this.state = nextStreamState(this.state, event, this.id);
  }

  private completed(): boolean {
    return !this.state.reset && this.state.response === "closed";
  }

  private maybeFinish(): void {
    if (this.finished) return;
    if (this.state.response === "closed" && this.state.request !== "closed") {
      // The response is complete; the rest of the request is not needed (as HTTP/2 does).
      this.reset(ErrorCode.NO_ERROR, "response complete");
      return;
    }
    if (isStreamClosed(this.state)) this.close();
  }

  private close(): void {
    if (this.finished) return;
    this.finished = true;
    // A cleanly finished exchange needs no cancel upstream; anything else does.
    if (!this.completed() || this.state.request !== "closed") this.abort.abort();
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.idleTimer);
    if (this.queuedBytes > 0) {
      // Bytes of a stream that is gone: their socket credit goes back at once (8.2).
      this.host.releaseConnection(this.queuedBytes, true);
      this.queue.length = 0;
      this.queuedBytes = 0;
    }
    this.wakeBody();
    this.wakeWindow();
    this.wakeOutput();
    const { metrics } = this.host.ctx;
    metrics.observeCall(this.head.path, this.outcome, (performance.now() - this.started) / 1000);
    this.call.end(this.outcome);
    this.host.streamClosed(this);
  }
}

function textResponse(status: number, text: string): ProxyResponse {
  return { status, headers: [["content-type", "text/plain; charset=utf-8"]], body: bodyOf(encoder.encode(text)), trailers: () => [] };
}
