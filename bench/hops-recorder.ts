/**
 * The trace hook the latency-budget benchmark installs in each realm (page, worker,
 * gateway): it appends the time of each named point to that point's list. Calls run one
 * after the other, so the k-th time of every point belongs to the k-th call.
 */
import { setTraceHook } from "../protocol/trace.js";

/** Times in µs per point, in the order they happened. */
export type HopMarks = Record<string, number[]>;

/** Installs a recording hook reading `nowUs`; returns its marks and a reset. */
export function installHopRecorder(nowUs: () => number): { marks(): HopMarks; reset(): void } {
  let marks = new Map<string, number[]>();
  setTraceHook((point) => {
    const t = nowUs();
    let list = marks.get(point);
    if (!list) marks.set(point, (list = []));
    list.push(t);
  });
  return {
    marks: () => Object.fromEntries(marks),
    reset: () => {
      marks = new Map();
    },
  };
}

/** The page's and the worker's clock: one domain for both (ms since the epoch, sub-ms), in µs. */
export const browserNowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

/** The message that asks the benchmark worker for its marks. */
export const HOPS_MESSAGE = "swtunnel.bench.hops";
