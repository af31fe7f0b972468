/**
 * Turns the marks of N sequential calls (page, worker and gateway realms) into a per-hop
 * budget: every point's median time since the call started and the median time from the
 * point before it (in the order a call passes them; a negative step means two points
 * overlap, e.g. the gateway sends the response head while the body is still coming). The page and the worker share one clock; the gateway's clock is aligned
 * per call the NTP way, from the HEADERS frame going out and coming in and the last
 * response frame going out and coming in (assuming both directions take equally long; the
 * error is at most half the time on the wire).
 */
import type { HopMarks } from "./hops-recorder.js";

/** What each point marks, in the order a call passes them. */
export const hopLabels: Record<string, string> = {
  "p.call": "page: call starts (client.sayHello)",
  "p.post": "page: `start` posted to the worker (Connect client + port client)",
  "w.in": "worker: call received (port message / fetch event)",
  "w.out.first": "worker: HEADERS frame handed to the WebSocket",
  "w.out.last": "worker: END_STREAM frame handed to the WebSocket",
  "g.in.first": "gateway: HEADERS frame received",
  "g.in.last": "gateway: END_STREAM frame received",
  "g.up.req": "gateway: HTTP/2 request started upstream",
  "g.up.end": "gateway: upstream request body ended",
  "g.up.resp": "gateway: upstream response head received",
  "g.out.first": "gateway: response HEADERS frame sent",
  "g.up.last": "gateway: upstream response body ended",
  "g.out.last": "gateway: last frame (END_STREAM / TRAILERS) sent",
  "w.in.first": "worker: response HEADERS frame received",
  "w.in.last": "worker: last response frame received",
  "w.post": "worker: response handed to the page (head message / Response)",
  "p.head": "page: head message received",
  "p.done": "page: call resolved",
};

/** One point of the budget. */
export interface HopRow {
  point: string;
  label: string;
  /** Median µs since `p.call`. */
  atUs: number;
  /** Median µs since the point before it (per call, then the median). */
  deltaUs: number;
}

/** The budget of one path. */
export interface HopBudget {
  calls: number;
  rows: HopRow[];
  /**
   * Median per call of half the time on the wire (the worker's round trip minus the
   * gateway's time): the alignment is off by at most this much (µs; 0 without gateway marks).
   */
  alignmentBoundUs: number;
  /** Points that did not fire exactly once per call (left out). */
  skipped: string[];
}

/** The median of `values` (NaN for none). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Builds the budget from the marks of one run; `p.call` must be present (one per call). */
export function hopBudget(page: HopMarks, worker: HopMarks, gateway: HopMarks): HopBudget {
  const starts = page["p.call"];
  if (!starts || starts.length === 0) throw new Error("no p.call marks: the page recorded no call");
  const n = starts.length;
  const skipped: string[] = [];
  const once = (marks: HopMarks): HopMarks => {
    const out: HopMarks = {};
    for (const [point, times] of Object.entries(marks)) {
      if (times.length === n) out[point] = times;
      else skipped.push(`${point} (${times.length} marks for ${n} calls)`);
    }
    return out;
  };
  const browser = { ...once(page), ...once(worker) };
  const gw = once(gateway);
  // Gateway clock -> browser clock, per call.
  const pairs = ["w.out.first", "g.in.first", "g.out.last", "w.in.last"];
  const aligned = pairs.every((p) => (p.startsWith("g.") ? gw[p] : browser[p]));
  const offsets: number[] = [];
  const bounds: number[] = [];
  if (aligned) {
    for (let k = 0; k < n; k++) {
      const up = gw["g.in.first"]![k]! - browser["w.out.first"]![k]!;
      const down = gw["g.out.last"]![k]! - browser["w.in.last"]![k]!;
      offsets.push((up + down) / 2);
      bounds.push(Math.abs(up - down) / 2);
    }
    for (const [point, times] of Object.entries(gw)) browser[point] = times.map((t, k) => t - offsets[k]!);
  } else {
    for (const point of Object.keys(gw)) skipped.push(`${point} (no clock alignment: a HEADERS or last-frame mark is missing)`);
  }
  const since = new Map<string, number[]>();
  for (const [point, times] of Object.entries(browser))
    since.set(
      point,
      times.map((t, k) => t - starts[k]!),
    );
  // The order a call passes the points (hopLabels), then any other point by its median time.
  const known = Object.keys(hopLabels);
  const rank = (point: string) => (known.includes(point) ? known.indexOf(point) : known.length);
  const ordered = [...since.entries()]
    .map(([point, rel]) => ({ point, rel, at: median(rel) }))
    .sort((a, b) => rank(a.point) - rank(b.point) || a.at - b.at);
  const rows: HopRow[] = ordered.map((entry, i) => {
    const prev = ordered[i - 1];
    return {
      point: entry.point,
      label: hopLabels[entry.point] ?? entry.point,
      atUs: entry.at,
      deltaUs: prev ? median(entry.rel.map((r, k) => r - prev.rel[k]!)) : 0,
    };
  });
  return { calls: n, rows, alignmentBoundUs: aligned ? median(bounds) : 0, skipped };
}

/** The budget as a Markdown table. */
export function hopTable(budget: HopBudget): string {
  const lines = ["| point | what | µs since call start | µs since previous point |", "|---|---|---:|---:|"];
  for (const r of budget.rows) lines.push(`| \`${r.point}\` | ${r.label} | ${r.atUs.toFixed(0)} | ${r.deltaUs.toFixed(0)} |`);
  return lines.join("\n");
}
