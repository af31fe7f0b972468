/**
 * OpenTelemetry spans for tunnel calls, through `@opentelemetry/api` only: without an SDK
 * registered by the application every call here is a no-op, and the client's W3C
 * `traceparent` / `tracestate` reach the backend unchanged (the tunnel forwards headers as
 * they are). With a tracer provider and a propagator registered, each call gets one SERVER
 * span whose parent is the incoming `traceparent`, and the backend gets the gateway's span
 * as its parent.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  propagation,
  trace,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import type { HeaderList } from "../protocol/index.js";
import type { Outcome } from "./outcome.js";

/** The tracer's instrumentation scope name. */
export const TRACER_NAME = "swtunnel";

/** Reads a propagation field (e.g. `traceparent`) from a tunnel header list. */
export const headerListGetter: TextMapGetter<HeaderList> = {
  keys: (headers) => [...new Set(headers.map(([name]) => name))],
  get(headers, key) {
    const name = key.toLowerCase();
    const values = headers.filter(([n]) => n === name).map(([, v]) => v);
    if (values.length === 0) return undefined;
    return values.length === 1 ? values[0] : values;
  },
};

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key.toLowerCase()] = value;
  },
};

/** The span of one call, and the request headers to send upstream. */
export interface CallSpan {
  /** The request headers with the gateway's trace context injected (the same list when nothing was injected). */
  readonly headers: HeaderList;
  /** The trace id to log with the call, when the call carries a valid trace context. */
  readonly traceId: string | undefined;
  /** Ends the span with the call's outcome. */
  end(outcome: Outcome, label: string): void;
}

/** What a call span is started from. */
export interface CallSpanInit {
  /** `/pkg.Service/Method` (a query, if any, is ignored). */
  path: string;
  headers: HeaderList;
  /** The client's address. */
  remote: string;
  /** What the upstream speaks, for `rpc.system`. */
  upstreamProtocol: "grpc" | "connect";
}

/** Starts the span of one call (a no-op span when no tracer provider is registered). */
export function startCallSpan(init: CallSpanInit): CallSpan {
  const parent = propagation.extract(ROOT_CONTEXT, init.headers, headerListGetter);
  const path = init.path.split("?")[0]!;
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  const span: Span = trace.getTracer(TRACER_NAME).startSpan(
    m ? `${m[1]}/${m[2]}` : path,
    {
      kind: SpanKind.SERVER,
      attributes: {
        "rpc.system": init.upstreamProtocol === "grpc" ? "grpc" : "connect_rpc",
        ...(m ? { "rpc.service": m[1], "rpc.method": m[2] } : {}),
        "client.address": init.remote,
      },
    },
    parent,
  );
  const injected: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), injected, recordSetter);
  const names = Object.keys(injected);
  const headers: HeaderList =
    names.length === 0 ? init.headers : [...init.headers.filter(([n]) => !names.includes(n)), ...Object.entries(injected)];
  const context = span.spanContext();
  const traceId = trace.isSpanContextValid(context) ? context.traceId : incomingTraceId(init.headers);
  return {
    headers,
    traceId,
    end(outcome, label) {
      if (!span.isRecording()) return;
      if (outcome.grpcStatus !== undefined) span.setAttribute("rpc.grpc.status_code", outcome.grpcStatus);
      if (outcome.httpStatus !== undefined) span.setAttribute("http.response.status_code", outcome.httpStatus);
      if (outcome.abort !== undefined) span.setAttribute("error.type", outcome.abort);
      span.setAttribute("swtunnel.outcome", label);
      if (outcome.failed) span.setStatus({ code: SpanStatusCode.ERROR, message: label });
      span.end();
    },
  };
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/;

/** The trace id of an incoming `traceparent`, for log lines when no propagator is registered. */
function incomingTraceId(headers: HeaderList): string | undefined {
  const value = headers.find(([n]) => n === "traceparent")?.[1];
  const id = value ? TRACEPARENT.exec(value.trim())?.[1] : undefined;
  return id && !/^0+$/.test(id) ? id : undefined;
}
