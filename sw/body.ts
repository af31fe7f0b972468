/**
 * Bridges between fetch bodies and the tunnel's async iterables.
 *
 * Response side: a ReadableStream whose `pull` asks the tunnel for the next chunk only
 * when the page reads, so a page that stops reading stops the tunnel's window updates
 * (back-pressure reaches the gateway and the backend). Cancelling the stream — what
 * Chromium does when the page aborts a fetch the worker answered — ends the iterator,
 * which resets the tunnel stream with CANCEL.
 */
import { toTunnelError } from "../client/errors.js";
import type { RpcFlavor } from "./error-response.js";
import { TRAILER_FLAG, encodeEnvelope, endStreamEnvelope, setTrailerStatus, trailerSerialize } from "./rpc-error-wire.js";

/** The request body to send through the tunnel. */
export async function requestBody(request: Request, options: { buffer: boolean }): Promise<Uint8Array | AsyncIterable<Uint8Array> | null> {
  if (request.method === "GET" || request.method === "HEAD") return null;
  // Buffer when the body may need replaying (fallback to the network) or when the
  // browser gives no stream; otherwise stream it, so client streams flow at once.
  if (options.buffer || request.body === null) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    return bytes.byteLength === 0 ? null : bytes;
  }
  return streamToIterable(request.body);
}

/**
 * An async iterable over a byte stream; ending the iteration early cancels the stream,
 * and so does `signal` (even while a read is pending).
 */
export async function* streamToIterable(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let done = false;
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return;
      }
      if (r.value.byteLength > 0) yield r.value;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Options of {@link iterableToStream}. */
export interface IterableToStreamOptions {
  /** Called once when the page cancels the stream (it aborted or stopped reading for good). */
  onCancel?: () => void;
  /** Called once when the body ended, normally or not. */
  onEnd?: (error?: unknown) => void;
  /**
   * When the tunnel fails mid-body, end the body with an error in this protocol's own
   * shape (Connect end-stream, gRPC-Web trailer) at a message boundary, so the page's
   * client reports the Connect code instead of a bare network error.
   */
  flavor?: RpcFlavor;
}

/**
 * A pull-based ReadableStream over the tunnel response body. Once the page cancelled,
 * nothing touches the controller again: a `pull` still waiting on the tunnel when the
 * cancel came ends quietly, and the cancel does not wait for that `pull` either. What the
 * cancel sets off (`onCancel`, ending the iterator) runs in a later task, never inside the
 * engine's cancel callback (see the cancel below).
 */
export function iterableToStream(body: AsyncIterable<Uint8Array>, options: IterableToStreamOptions = {}): ReadableStream<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  const boundary = new EnvelopeBoundary();
  let finished = false;
  let cancelled = false;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    options.onEnd?.(error);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let r: IteratorResult<Uint8Array>;
        try {
          r = await it.next();
        } catch (err) {
          finish(err);
          if (cancelled) return;
          const tail = options.flavor && boundary.atBoundary() ? errorTail(options.flavor, err) : undefined;
          if (tail) {
            controller.enqueue(tail);
            controller.close();
          } else {
            controller.error(err);
          }
          return;
        }
        if (cancelled) return;
        if (r.done) {
          controller.close();
          finish();
          return;
        }
        boundary.push(r.value);
        controller.enqueue(r.value);
      },
      cancel() {
        cancelled = true;
        finish(new Error("cancelled by the page"));
        // Aborting the tunnel stream ends a pending `pull`; `return` then has nothing to wait for.
        // Not inside this callback: `onCancel` aborts an AbortSignal, whose listeners run
        // synchronously, and in WebKitGTK 2.50 any event dispatched to a listener from within
        // the cancel of a body the fetch event answered wedges the worker for good (it handles
        // no later event). A later task (or even a microtask) is fine.
        setTimeout(() => {
          options.onCancel?.();
          void Promise.resolve(it.return?.()).catch(() => {});
        }, 0);
      },
    },
    // No read-ahead: one chunk is asked for only when the page wants one.
    { highWaterMark: 0 },
  );
}

/** Tracks whether a byte stream of length-prefixed envelopes is between two envelopes. */
export class EnvelopeBoundary {
  private need = 5;
  private inHeader = true;
  private header = new Uint8Array(5);
  private headerFill = 0;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.inHeader) {
        const n = Math.min(5 - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + n), this.headerFill);
        this.headerFill += n;
        i += n;
        if (this.headerFill === 5) {
          this.need = new DataView(this.header.buffer).getUint32(1);
          this.inHeader = false;
          this.headerFill = 0;
          if (this.need === 0) this.reset();
        }
      } else {
        const n = Math.min(this.need, chunk.length - i);
        this.need -= n;
        i += n;
        if (this.need === 0) this.reset();
      }
    }
  }

  atBoundary(): boolean {
    return this.inHeader && this.headerFill === 0;
  }

  private reset(): void {
    this.inHeader = true;
    this.need = 5;
  }
}

/** The bytes that end a streaming body with an error, for protocols that have such a frame. */
export function errorTail(flavor: RpcFlavor, err: unknown): Uint8Array | undefined {
  const error = toTunnelError(err);
  switch (flavor) {
    case "connect-stream":
      return endStreamEnvelope(error);
    case "grpc-web":
      return encodeEnvelope(TRAILER_FLAG, trailerSerialize(setTrailerStatus(new Headers(), error)));
    default:
      return undefined;
  }
}
