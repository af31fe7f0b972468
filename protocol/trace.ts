/**
 * Opt-in per-hop timestamps for the latency budget (bench/hops.ts). Off unless a
 * benchmark installs a hook: each call site is `traceHook?.(point)` (or guarded by
 * `if (traceHook)`), one load and one test per hop when off. The hook reads its own clock,
 * so call sites never do. Point names: `p.*` page, `w.*` worker, `g.*` gateway.
 */
import type { Frame } from "./frames.js";

/** Receives one named point of the call in flight. */
export type TraceHook = (point: string) => void;

/** The installed hook, or undefined (the default: tracing off). */
export let traceHook: TraceHook | undefined;

/** Installs (or, with undefined, removes) the hook of this JavaScript realm. */
export function setTraceHook(hook: TraceHook | undefined): void {
  traceHook = hook;
}

/**
 * Marks a frame crossing a socket: `${side}.first` for a HEADERS frame, `${side}.last`
 * for the frame that ends its direction (END_STREAM or TRAILERS). Other frames are not marked.
 */
export function traceFrame(side: string, frame: Frame): void {
  if (!traceHook) return;
  if (frame.kind === "request-headers" || frame.kind === "response-headers") {
    traceHook(`${side}.first`);
    if (frame.endStream) traceHook(`${side}.last`);
  } else if (frame.kind === "trailers" || (frame.kind === "data" && frame.endStream)) traceHook(`${side}.last`);
}
