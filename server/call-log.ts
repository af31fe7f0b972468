/**
 * The request log: one pino line per finished call, with the method, the outcome, the
 * duration, the bytes each way and the client's address. Failed calls are always logged;
 * successful ones are sampled (`logSampleRate`), so a busy gateway's log stays small while
 * every failure is there.
 */
import type { Logger } from "pino";
import type { Outcome } from "./outcome.js";

/** One finished call, as logged. */
export interface CallRecord {
  /** Tunnel stream id (unique per socket). */
  stream: number;
  /** `/pkg.Service/Method`. */
  method: string;
  /** The outcome label: gRPC status, HTTP status or what ended the stream (see server/outcome.ts). */
  status: string;
  /** Wall time from the request head to the end of the stream, ms. */
  durationMs: number;
  /** Request body bytes received from the client (DATA payloads). */
  bytesIn: number;
  /** Response body bytes sent to the client (DATA payloads). */
  bytesOut: number;
  /** The client's address, as the gateway's limits see it. */
  remote: string;
  /** The W3C trace id of the call, when it carried one. */
  traceId?: string;
}

/** True when the call gets a log line: always when it failed, with probability `rate` otherwise. */
export function shouldLogCall(outcome: Outcome, rate: number, random: () => number = Math.random): boolean {
  if (outcome.failed) return true;
  return rate >= 1 || (rate > 0 && random() < rate);
}

/** Writes the call's line (`msg: "call"`) when it is sampled. */
export function logCall(log: Logger, rate: number, outcome: Outcome, record: CallRecord): void {
  if (!shouldLogCall(outcome, rate)) return;
  const line: CallRecord & { failed?: true } = { ...record, durationMs: Math.round(record.durationMs * 1000) / 1000 };
  if (outcome.failed) line.failed = true;
  log.info(line, "call");
}
