/**
 * What the gateway observes of one call, in one place for the stream to call: the span
 * (server/tracing.ts), the byte counts and the request log line (server/call-log.ts).
 */
import type { RequestHeadersFrame } from "../protocol/index.js";
import { logCall } from "./call-log.js";
import type { GatewayContext } from "./context.js";
import { parseOutcome } from "./outcome.js";
import { startCallSpan, type CallSpan } from "./tracing.js";

export class CallObserver {
  /** Request body bytes received. */
  bytesIn = 0;
  /** Response body bytes sent. */
  bytesOut = 0;
  private readonly span: CallSpan;
  private readonly started = performance.now();
  private ended = false;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly head: RequestHeadersFrame,
    private readonly remote: string,
  ) {
    this.span = startCallSpan({ path: head.path, headers: head.headers, remote, upstreamProtocol: ctx.options.upstreamProtocol });
  }

  /** The request headers to send upstream (with the gateway's trace context when tracing is on). */
  get headers(): RequestHeadersFrame["headers"] {
    return this.span.headers;
  }

  /** The call ended with `label` (the stream's outcome): ends the span and writes the log line. */
  end(label: string): void {
    if (this.ended) return;
    this.ended = true;
    const outcome = parseOutcome(label);
    this.span.end(outcome, label);
    logCall(this.ctx.log, this.ctx.options.logSampleRate, outcome, {
      stream: this.head.streamId,
      method: this.head.path.split("?")[0]!,
      status: label,
      durationMs: performance.now() - this.started,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      remote: this.remote,
      ...(this.span.traceId ? { traceId: this.span.traceId } : {}),
    });
  }
}
