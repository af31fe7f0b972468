/**
 * The deadline a request asks for (pure): gRPC's `grpc-timeout` (1 to 8 digits and a unit,
 * H M S m u n) or Connect's `connect-timeout-ms` (1 to 10 digits), and the gateway's own
 * limits on top. The gateway enforces the smallest; malformed values are not a deadline
 * here (header validation answers them).
 */
import type { HeaderList } from "../protocol/index.js";

const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** The timeout a request's headers ask for, in ms, or undefined when none (or malformed). */
export function requestTimeoutMs(headers: HeaderList): number | undefined {
  let ms: number | undefined;
  for (const [name, value] of headers) {
    let t: number | undefined;
    if (name === "grpc-timeout") {
      const m = /^(\d{1,8})([HMSmun])$/.exec(value);
      if (m) t = Number(m[1]) * GRPC_UNIT_MS[m[2]!]!;
    } else if (name === "connect-timeout-ms" && /^\d{1,10}$/.test(value)) {
      t = Number(value);
    }
    if (t !== undefined) ms = ms === undefined ? t : Math.min(ms, t);
  }
  return ms;
}

/** Which limit ends a call first, and the message the client sees when it does. */
export interface CallDeadline {
  ms: number;
  message: string;
}

/**
 * The first deadline of a call: the request's timeout or the gateway's maximum call
 * duration (0 = none), whichever is sooner; undefined when neither applies.
 */
export function callDeadline(headers: HeaderList, maxCallDurationMs: number): CallDeadline | undefined {
  const asked = requestTimeoutMs(headers);
  if (asked !== undefined && (maxCallDurationMs === 0 || asked <= maxCallDurationMs)) {
    const ms = Math.ceil(asked);
    return { ms, message: `deadline of ${ms} ms set by the request (grpc-timeout / connect-timeout-ms) expired at the gateway` };
  }
  if (maxCallDurationMs > 0) {
    return {
      ms: maxCallDurationMs,
      message: `call ran longer than the gateway's maximum call duration of ${maxCallDurationMs} ms (maxCallDurationMs)`,
    };
  }
  return undefined;
}
