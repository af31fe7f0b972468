/**
 * One tunnel stream on the client side: sends the request head and pumps the request body
 * under flow control, delivers the response head, exposes the response body as an async
 * iterable whose reading grants the gateway more window, and collects the trailers.
 * Socket-level concerns (frame I/O, the connection windows, the stream table) belong to
 * the session, reached through {@link StreamHost}.
 */
import { Code } from "./code.js";
import {
  ErrorCode,
  IDLE_STREAM,
  ProtocolError,
  ReceiveWindow,
  SendWindow,
  errorCodeName,
  isStreamClosed,
  nextStreamState,
  type DataFrame,
  type Frame,
  type HeaderList,
  type ResponseHeadersFrame,
  type RstStreamFrame,
  type StreamEvent,
  type StreamState,
  type TrailersFrame,
} from "../protocol/index.js";
import type { BodySource } from "./body-source.js";
import { TunnelError, canceledError, resetError, toTunnelError } from "./errors.js";
import type { TunnelResponse } from "./types.js";

/** What a stream needs to start: the request, and where its outcome goes until the head. */
export interface StreamInit {
  method: string;
  path: string;
  headers: HeaderList;
  source: BodySource;
  /** The response head arrived. Called at most once, and never after `onError`. */
  onHead(response: TunnelResponse): void;
  /** The stream failed before its response head. Called at most once. */
  onError(error: TunnelError): void;
}

/** The session as seen by one of its streams. */
export interface StreamHost {
  /** The gateway's MAX_FRAME_PAYLOAD. */
  readonly maxFramePayload: number;
  /** Credit the gateway granted for the whole socket. */
  readonly connectionSendWindow: SendWindow;
  send(frame: Frame): void;
  /** The consumer read `n` bytes of DATA: credit the socket's receive window. */
  releaseConnection(n: number): void;
  /** The stream is closed for the protocol; remove it from the table. */
  streamClosed(stream: ClientStream): void;
}

const EMPTY = /* @__PURE__ */ new Uint8Array(0);

export class ClientStream {
  private state: StreamState = IDLE_STREAM;
  private readonly sendWindow: SendWindow;
  private readonly receiveWindow: ReceiveWindow;
  /** True while the request body pump may send. */
  private pumping = false;
  private windowWaiter: (() => void) | null = null;
  /** Set once the call's outcome is final (ended, failed, or moved to another socket). */
  private finished = false;
  private headDelivered = false;
  private inTable = true;

  // Response body, buffered up to our window.
  private chunks: Uint8Array[] = [];
  private bodyEnded = false;
  private bodyError: TunnelError | null = null;
  private bodyReturned = false;
  private readWaiter: (() => void) | null = null;
  private trailerList: HeaderList = [];

  constructor(
    readonly id: number,
    private readonly host: StreamHost,
    readonly init: StreamInit,
    sendWindow: number,
    receiveWindow: number,
  ) {
    this.sendWindow = new SendWindow(sendWindow);
    this.receiveWindow = new ReceiveWindow(receiveWindow);
  }

  /** True until the stream is closed for the protocol (it still counts against MAX_CONCURRENT_STREAMS). */
  get open(): boolean {
    return this.inTable;
  }

  /** True once `cancel()` would do nothing: out of the table, request side closed, outcome final. */
  get done(): boolean {
    if (this.inTable || this.pumping || this.state.request !== "closed") return false;
    return this.headDelivered ? this.bodyEnded || this.bodyError !== null || this.bodyReturned : this.finished;
  }

  /** Sends the request HEADERS and starts the body pump. */
  start(): void {
    const endStream = this.init.source.emptyKnown;
    this.transition({ frame: "request-headers", endStream });
    this.host.send({
      kind: "request-headers",
      streamId: this.id,
      endStream,
      method: this.init.method,
      path: this.init.path,
      headers: this.init.headers,
    });
    if (!endStream) {
      this.pumping = true;
      void this.pump();
    }
  }

  /** Applies a frame the gateway sent on this stream. */
  receive(frame: DataFrame | ResponseHeadersFrame | TrailersFrame | RstStreamFrame): void {
    try {
      switch (frame.kind) {
        case "response-headers":
          return this.onHead(frame);
        case "data":
          return this.onData(frame);
        case "trailers":
          this.transition({ frame: "trailers" });
          this.trailerList = frame.trailers;
          return this.endResponse();
        case "rst":
          this.transition({ frame: "rst" });
          return this.fail(resetError(frame.code, frame.message));
      }
    } catch (e) {
      if (e instanceof ProtocolError && e.streamId === this.id) return this.protocolError(e);
      throw e;
    }
  }

  /** Applies a WINDOW_UPDATE for this stream. */
  windowUpdate(increment: number): void {
    try {
      this.transition({ frame: "window-update" });
      this.sendWindow.credit(increment, this.id);
    } catch (e) {
      if (e instanceof ProtocolError && e.streamId === this.id) return this.protocolError(e);
      throw e;
    }
    this.wake();
  }

  /** Send window may have grown (stream or socket): let a waiting pump go on. */
  wake(): void {
    const w = this.windowWaiter;
    this.windowWaiter = null;
    w?.();
  }

  /** Cancels the call: RST_STREAM CANCEL if the stream is still open, `error` to any waiter. */
  cancel(error: TunnelError = canceledError()): void {
    if (this.inTable) {
      this.state = nextStreamState(this.state, { frame: "rst" }, this.id);
      this.host.send({ kind: "rst", streamId: this.id, code: ErrorCode.CANCEL, message: error.rawMessage });
    }
    this.fail(error);
  }

  /**
   * Ends the call with `error` without sending anything (the gateway reset the stream or
   * the socket is gone). Buffered response bytes are dropped and their credit returned.
   */
  fail(error: TunnelError): void {
    this.stopPump(true);
    this.close();
    if (!this.headDelivered) {
      if (this.finished) return;
      this.finished = true;
      this.init.onError(error);
      return;
    }
    if (this.bodyEnded || this.bodyError || this.bodyReturned) return;
    this.finished = true;
    this.bodyError = error;
    this.dropBuffered();
    this.wakeReader();
  }

  /**
   * Removes the stream without ending the call (GOAWAY: the gateway never processed it), so
   * the call can run again on another socket. The body source is left as it is.
   */
  detach(): void {
    this.finished = true;
    this.stopPump(false);
    this.close();
  }

  private onHead(frame: ResponseHeadersFrame): void {
    this.transition({ frame: "response-headers", endStream: frame.endStream });
    if (this.finished) return;
    this.headDelivered = true;
    const response: TunnelResponse = {
      status: frame.status,
      headers: frame.headers,
      body: { [Symbol.asyncIterator]: () => this.bodyIterator() },
      trailers: () => this.trailerList,
    };
    this.init.onHead(response);
    if (frame.endStream) this.endResponse();
  }

  private onData(frame: DataFrame): void {
    this.transition({ frame: "data", direction: "response", endStream: frame.endStream });
    this.receiveWindow.receive(frame.data.length, this.id);
    if (frame.data.length > 0) {
      if (this.bodyReturned || this.bodyError) this.host.releaseConnection(frame.data.length);
      else this.chunks.push(frame.data);
    }
    if (frame.endStream) this.endResponse();
    else this.wakeReader();
  }

  /** The response is complete. A request body still being sent is no longer needed. */
  private endResponse(): void {
    if (this.state.request !== "closed" && !this.state.reset) {
      this.stopPump(true);
      this.state = nextStreamState(this.state, { frame: "rst" }, this.id);
      this.host.send({ kind: "rst", streamId: this.id, code: ErrorCode.NO_ERROR, message: "response complete; request body not needed" });
    }
    this.finished = true;
    this.bodyEnded = true;
    this.close();
    this.wakeReader();
  }

  /** The gateway broke a stream-level rule: RST_STREAM with the error's code, `internal` to the caller. */
  protocolError(e: ProtocolError): void {
    if (this.inTable && !this.state.reset) {
      this.state = { request: "closed", response: "closed", reset: true };
      this.host.send({ kind: "rst", streamId: this.id, code: e.code, message: e.message });
    }
    this.fail(new TunnelError(`the tunnel gateway broke the protocol (${errorCodeName(e.code)}): ${e.message}`, Code.Internal));
  }

  private transition(event: StreamEvent): void {
    this.state = nextStreamState(this.state, event, this.id);
  }

  private close(): void {
    if (!this.inTable) return;
    this.inTable = false;
    this.host.streamClosed(this);
  }

  private stopPump(cancelSource: boolean): void {
    const wasPumping = this.pumping;
    this.pumping = false;
    this.wake();
    if (cancelSource && (wasPumping || this.state.request !== "closed")) this.init.source.cancel();
  }

  private windowSize(): number {
    return Math.min(this.sendWindow.size, this.host.connectionSendWindow.size);
  }

  /** Sends the request body in DATA frames within the windows; pulls only when there is window. */
  private async pump(): Promise<void> {
    const source = this.init.source;
    try {
      while (this.pumping) {
        if (this.windowSize() === 0) {
          await new Promise<void>((resolve) => (this.windowWaiter = resolve));
          continue;
        }
        const chunk = await source.peek();
        if (!this.pumping) return;
        if (chunk === null) {
          this.sendData(EMPTY, true);
          return;
        }
        // Only when window is left after this chunk: the pump would pull the next one then
        // anyway, so nothing is pulled earlier than without the lookahead. The windows and
        // the stream may have changed meanwhile: look again.
        if (chunk.length <= this.host.maxFramePayload && chunk.length < this.windowSize() && (await source.lookahead())) continue;
        const n = Math.min(chunk.length, this.host.maxFramePayload, this.windowSize());
        if (n === 0) continue;
        const data = source.take(n);
        this.sendData(data, source.exhausted);
        if (source.exhausted) return;
      }
    } catch (e) {
      if (!this.pumping) return;
      this.cancel(toTunnelError(e, Code.Internal));
    }
  }

  private sendData(data: Uint8Array, endStream: boolean): void {
    this.transition({ frame: "data", direction: "request", endStream });
    this.sendWindow.consume(data.length);
    this.host.connectionSendWindow.consume(data.length);
    if (endStream) this.pumping = false;
    this.host.send({ kind: "data", streamId: this.id, endStream, data });
    if (endStream && isStreamClosed(this.state)) this.close();
  }

  private bodyIterator(): AsyncIterator<Uint8Array> {
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        for (;;) {
          if (this.bodyReturned) return { done: true, value: undefined };
          if (this.bodyError) throw this.bodyError;
          const chunk = this.chunks.shift();
          if (chunk) {
            this.consumed(chunk.length);
            return { done: false, value: chunk };
          }
          if (this.bodyEnded) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (this.readWaiter = resolve));
        }
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        if (!this.bodyReturned) {
          const complete = this.bodyEnded || this.bodyError !== null;
          this.bodyReturned = true;
          this.dropBuffered();
          // Breaking out before the end: the rest of the response is not wanted.
          if (!complete) this.cancel(canceledError("the response body was abandoned before its end"));
        }
        return { done: true, value: undefined };
      },
    };
  }

  /** The consumer took `n` bytes: return the credit to the gateway. */
  private consumed(n: number): void {
    this.host.releaseConnection(n);
    const increment = this.receiveWindow.release(n);
    if (increment > 0 && this.inTable && this.state.response === "open") {
      this.host.send({ kind: "window-update", streamId: this.id, increment });
    }
  }

  private dropBuffered(): void {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    this.chunks = [];
    if (n > 0) this.host.releaseConnection(n);
  }

  private wakeReader(): void {
    const w = this.readWaiter;
    this.readWaiter = null;
    w?.();
  }
}
