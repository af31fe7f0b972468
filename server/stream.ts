/**
 * One tunnel stream: the request frames become a ProxyRequest whose body is fed by DATA
 * frames (window credit is returned only as the upstream consumes them), and the
 * ProxyResponse goes back as HEADERS, DATA cut to the peer's frame size and sent only
 * within the send windows (the next body chunk is pulled only when there is credit), and
 * TRAILERS.
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
import { CallObserver } from "./call-observer.js";
import type { GatewayContext } from "./context.js";
import type { ProxyRequest, ProxyResponse } from "./exchange.js";
import { EMPTY_BODY, bodyOf } from "./body.js";
import { isGrpc } from "./content-type.js";
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
  /** Sends one frame; false once the socket is gone. */
  send(frame: Frame): boolean;
  /** Returns socket-level receive credit for `n` consumed bytes. */
  releaseConnection(n: number): void;
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
  }

  /** True once the stream ended or was reset. */
  get closed(): boolean {
    return this.finished;
  }

  /** Request DATA (socket-level credit was already accounted by the connection). */
  onData(data: Uint8Array, endStream: boolean): void {
    try {
      this.state = nextStreamState(this.state, { frame: "data", direction: "request", endStream }, this.id);
      this.receiveWindow.receive(data.length, this.id);
    } catch (err) {
      this.host.releaseConnection(data.length);
      const e = err as ProtocolError;
      this.reset(e.code, e.message);
      return;
    }
    const breach = this.requestLimit.push(data);
    if (breach) {
      this.host.releaseConnection(data.length);
      this.reset(ErrorCode.MESSAGE_TOO_LARGE, `request ${breach}`);
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
    try {
      this.state = nextStreamState(this.state, { frame: "window-update" }, this.id);
      this.sendWindow.credit(increment, this.id);
    } catch (err) {
      const e = err as ProtocolError;
      this.reset(e.code, e.message);
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

  /** Resets the stream from the gateway's side with a code and a message. */
  reset(code: ErrorCode, message: string): void {
    if (this.finished) return;
    this.state = { request: "closed", response: "closed", reset: true };
    this.host.send({ kind: "rst", streamId: this.id, code, message });
    if (code !== ErrorCode.NO_ERROR) {
      this.outcome = errorCodeName(code);
      this.host.ctx.metrics.errors.inc({ code: errorCodeName(code) });
      this.host.ctx.log.info({ stream: this.id, path: this.head.path, code: errorCodeName(code), message }, "stream reset");
    }
    this.close();
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
        response = await adapter.handle(request, ctx.upstream);
      } catch (err) {
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
      const trailersOnly = response.body === EMPTY_BODY && response.trailers().length === 0;
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
      if (trailersOnly) return this.maybeFinish();
      const limit = new MessageLimit(this.host.ctx.options.maxMessageBytes, isEnveloped(header(response.headers, "content-type") ?? ""));
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
    const event: StreamEvent =
      frame.kind === "trailers" ? { frame: "trailers" } : { frame: "response-headers", endStream: frame.endStream };
    this.transition(event);
    const ok = this.host.send(frame);
    if (!ok) this.abandon();
    return ok && !this.finished;
  }

  /** Sends one body chunk as DATA frames within the windows; false if the stream ended meanwhile. */
  private async sendData(chunk: Uint8Array): Promise<boolean> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.finished) return false;
      const credit = Math.min(this.sendWindow.size, this.host.connectionSendWindow.size, this.host.peer.maxFramePayload);
      if (credit <= 0) {
        await new Promise<void>((resolve) => (this.windowWaiter = resolve));
        continue;
      }
      const n = Math.min(credit, chunk.length - offset);
      this.sendWindow.consume(n);
      this.host.connectionSendWindow.consume(n);
      this.transition({ frame: "data", direction: "response", endStream: false });
      if (!this.host.send({ kind: "data", streamId: this.id, endStream: false, data: chunk.subarray(offset, offset + n) })) {
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
    if (this.queuedBytes > 0) {
      this.host.releaseConnection(this.queuedBytes);
      this.queue.length = 0;
      this.queuedBytes = 0;
    }
    this.wakeBody();
    this.wakeWindow();
    const { metrics } = this.host.ctx;
    metrics.callDuration.observe(
      { method: metrics.methodLabel(this.head.path), status: this.outcome },
      (performance.now() - this.started) / 1000,
    );
    this.call.end(this.outcome);
    this.host.streamClosed(this);
  }
}

function textResponse(status: number, text: string): ProxyResponse {
  return { status, headers: [["content-type", "text/plain; charset=utf-8"]], body: bodyOf(encoder.encode(text)), trailers: () => [] };
}
