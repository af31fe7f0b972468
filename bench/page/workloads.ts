/**
 * The benchmark's workloads as they run inside the page, written against a small "client"
 * interface so every path (direct Connect, tunnel, page SDK, raw WebSocket echo) runs the
 * same loop. Timing uses performance.now(), which has 5 µs resolution because the page is
 * cross-origin isolated.
 */

/** What one path can do; a path without a capability leaves it undefined. */
export interface BenchClient {
  /** One hello-world unary call. */
  hello(name: string): Promise<void>;
  /** A unary call carrying `payloadBytes` and answered with `responseBytes`; resolves with bytes received. */
  big?(payloadBytes: number, responseBytes: number): Promise<number>;
  /** A server stream of `count` messages of `size` bytes; resolves with bytes received. */
  stream?(size: number, count: number): Promise<number>;
  /** Opens a bidi stream and returns a ping that resolves when its echo arrived, and a close. */
  bidi?(): Promise<{ ping(text: string): Promise<void>; close(): Promise<void> }>;
}

/** Result of {@link sequential}. */
export interface SequentialResult {
  calls: number;
  totalMs: number;
  usPerCall: number;
}

/** `n` hello calls one after the other, after `warmup` untimed ones. */
export async function sequential(client: BenchClient, n: number, warmup: number): Promise<SequentialResult> {
  for (let i = 0; i < warmup; i++) await client.hello("warmup");
  const start = performance.now();
  for (let i = 0; i < n; i++) await client.hello("world");
  const totalMs = performance.now() - start;
  return { calls: n, totalMs, usPerCall: (totalMs * 1000) / n };
}

/** Result of {@link sparse}. */
export interface SparseResult {
  calls: number;
  gapMs: number;
  medianUs: number;
  p90Us: number;
  /** Every call's latency in call order, µs. */
  latenciesUs: number[];
}

/**
 * `n` hello calls `gapMs` apart (the pace of most apps), each timed alone: what a user
 * feels when the worker may have been stopped and the sockets have sat idle. `warmup`
 * untimed calls first, back to back.
 */
export async function sparse(client: BenchClient, n: number, gapMs: number, warmup: number): Promise<SparseResult> {
  for (let i = 0; i < warmup; i++) await client.hello("warmup");
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    const t0 = performance.now();
    await client.hello("world");
    latencies.push((performance.now() - t0) * 1000);
  }
  const sorted = Float64Array.from(latencies).sort();
  return { calls: n, gapMs, medianUs: quantile(sorted, 0.5), p90Us: quantile(sorted, 0.9), latenciesUs: latencies };
}

/** Result of {@link concurrent}. */
export interface ConcurrentResult {
  calls: number;
  inflight: number;
  totalMs: number;
  callsPerSec: number;
  p50Us: number;
  p99Us: number;
}

/** `total` hello calls with `inflight` of them outstanding at any time. */
export async function concurrent(client: BenchClient, total: number, inflight: number, warmup: number): Promise<ConcurrentResult> {
  await Promise.all(Array.from({ length: Math.min(inflight, warmup) }, () => client.hello("warmup")));
  const latencies = new Float64Array(total);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await client.hello("world");
      latencies[i] = (performance.now() - t0) * 1000;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inflight }, worker));
  const totalMs = performance.now() - start;
  latencies.sort();
  return {
    calls: total,
    inflight,
    totalMs,
    callsPerSec: total / (totalMs / 1000),
    p50Us: quantile(latencies, 0.5),
    p99Us: quantile(latencies, 0.99),
  };
}

/** Result of {@link stream}. */
export interface StreamResult {
  bytes: number;
  messages: number;
  totalMs: number;
  mbPerSec: number;
  msgsPerSec: number;
}

/** One server stream of `count` messages of `size` bytes, timed from call to end. */
export async function stream(client: BenchClient, size: number, count: number): Promise<StreamResult> {
  if (!client.stream) throw new Error("this path has no server streaming");
  await client.stream(size, Math.min(count, 16)); // warm the path
  const start = performance.now();
  const bytes = await client.stream(size, count);
  const totalMs = performance.now() - start;
  if (bytes !== size * count) throw new Error(`server stream delivered ${bytes} payload bytes, expected ${size * count}`);
  return { bytes, messages: count, totalMs, mbPerSec: bytes / 1e6 / (totalMs / 1000), msgsPerSec: count / (totalMs / 1000) };
}

/** Result of {@link bigRoundTrip}. */
export interface BigResult {
  bytes: number;
  rounds: number;
  msPerRoundTrip: number;
}

/** `rounds` unary calls each sending and receiving `bytes`. */
export async function bigRoundTrip(client: BenchClient, bytes: number, rounds: number): Promise<BigResult> {
  if (!client.big) throw new Error("this path has no big unary call");
  await client.big(bytes, bytes);
  const start = performance.now();
  for (let i = 0; i < rounds; i++) {
    const received = await client.big(bytes, bytes);
    if (received !== bytes) throw new Error(`round trip returned ${received} bytes, expected ${bytes}`);
  }
  return { bytes, rounds, msPerRoundTrip: (performance.now() - start) / rounds };
}

/** Result of {@link bidiPingPong}. */
export interface PingPongResult {
  rounds: number;
  usPerRoundTrip: number;
}

/** `n` ping-pongs on one bidi stream. */
export async function bidiPingPong(client: BenchClient, n: number, warmup: number): Promise<PingPongResult> {
  if (!client.bidi) throw new Error("this path has no bidi streaming");
  const stream = await client.bidi();
  try {
    for (let i = 0; i < warmup; i++) await stream.ping("warmup");
    const start = performance.now();
    for (let i = 0; i < n; i++) await stream.ping("ping");
    return { rounds: n, usPerRoundTrip: ((performance.now() - start) * 1000) / n };
  } finally {
    await stream.close();
  }
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
