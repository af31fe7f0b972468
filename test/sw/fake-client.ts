/** A stand-in tunnel client for unit tests of the worker runtime (one module at a time). */
import type { HeaderList } from "../../protocol/index.js";
import type { TunnelCallRequest, TunnelCallResponse, TunnelClientLike } from "../../sw/types.js";

export interface Recorded {
  req: TunnelCallRequest;
  body: Uint8Array[];
  cancelled: boolean;
}

/** Answers every call with `answer(req)`; records requests and whether their body iteration was cut short. */
export function fakeClient(
  answer: (req: TunnelCallRequest, rec: Recorded) => Promise<TunnelCallResponse> | TunnelCallResponse,
  status = "connected",
): TunnelClientLike & { calls: Recorded[]; status: string } {
  const calls: Recorded[] = [];
  return {
    calls,
    status,
    async request(req) {
      const rec: Recorded = { req, body: [], cancelled: false };
      calls.push(rec);
      if (req.body instanceof Uint8Array) rec.body.push(req.body);
      else if (req.body) for await (const c of req.body) rec.body.push(c);
      req.signal?.addEventListener("abort", () => (rec.cancelled = true));
      return answer(req, rec);
    },
    close() {},
  };
}

/** A response whose body yields `chunks`, waiting `gate()` before each. */
export function response(
  status: number,
  headers: HeaderList,
  chunks: Uint8Array[],
  trailers: HeaderList = [],
  opts: { failAfter?: unknown; gate?: () => Promise<void>; onReturn?: () => void } = {},
): TunnelCallResponse {
  return {
    status,
    headers,
    body: (async function* () {
      try {
        for (const c of chunks) {
          await opts.gate?.();
          yield c;
        }
        if (opts.failAfter !== undefined) throw opts.failAfter;
      } finally {
        opts.onReturn?.();
      }
    })(),
    trailers: () => trailers,
  };
}
