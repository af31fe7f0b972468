/**
 * Reconnect backoff of the tunnel client: how long to wait before the next connect attempt
 * after attempts failed in a row. Pure (no timers, no clock): the client asks for a delay
 * and schedules it itself.
 *
 * The delay after the n-th consecutive failure is drawn uniformly from
 * `[d * (1 - jitter), d]` with `d = min(maxDelayMs, initialDelayMs * multiplier^(n-1))`,
 * rounded to whole milliseconds. With the defaults: about 50-100 ms after the first
 * failure, 100-200 ms after the second, ..., never more than 5 s. A socket that worked
 * resets the count (the client reconnects at once after losing it).
 */

/** Options of the reconnect backoff (`TunnelClientOptions.reconnect`). Every field is optional. */
export interface BackoffOptions {
  /** Upper bound of the delay after the first failed attempt, in ms. Default 100. */
  initialDelayMs?: number;
  /** Upper bound of every delay, in ms; raised to `initialDelayMs` if below it. Default 5 000. */
  maxDelayMs?: number;
  /** Growth of the bound per further failure (>= 1). Default 2. */
  multiplier?: number;
  /**
   * Share of the bound that is random, 0..1: the delay is drawn from `[d * (1 - jitter), d]`.
   * 0 is no jitter; the default 0.5 spreads reconnecting clients over half the bound.
   */
  jitter?: number;
  /** Random numbers in [0, 1), e.g. a seeded generator in tests. Default `Math.random`. */
  random?: () => number;
}

/** The defaults of {@link BackoffOptions}. */
export const BACKOFF_DEFAULTS = {
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  multiplier: 2,
  jitter: 0.5,
} as const;

/** {@link BackoffOptions} with defaults applied and checked. */
export type Backoff = Readonly<Required<BackoffOptions>>;

/** Applies the defaults; throws a RangeError for values that make no sense. */
export function resolveBackoff(options: BackoffOptions = {}): Backoff {
  const initialDelayMs = options.initialDelayMs ?? BACKOFF_DEFAULTS.initialDelayMs;
  const maxDelayMs = Math.max(initialDelayMs, options.maxDelayMs ?? BACKOFF_DEFAULTS.maxDelayMs);
  const multiplier = options.multiplier ?? BACKOFF_DEFAULTS.multiplier;
  const jitter = options.jitter ?? BACKOFF_DEFAULTS.jitter;
  if (!(initialDelayMs >= 0) || !Number.isFinite(maxDelayMs))
    throw new RangeError(`reconnect: initialDelayMs and maxDelayMs must be finite and >= 0, got ${initialDelayMs} / ${maxDelayMs}`);
  if (!(multiplier >= 1) || !Number.isFinite(multiplier)) throw new RangeError(`reconnect: multiplier must be >= 1, got ${multiplier}`);
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`reconnect: jitter must be between 0 and 1, got ${jitter}`);
  return { initialDelayMs, maxDelayMs, multiplier, jitter, random: options.random ?? Math.random };
}

/** The delay in ms before the next attempt after `failures` (>= 1) consecutive failed attempts. */
export function backoffDelay(failures: number, backoff: Backoff): number {
  // The exponent is capped so that the bound stays finite for any failure count.
  const exponent = Math.min(30, Math.max(0, failures - 1));
  const d = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * Math.min(Number.MAX_VALUE, backoff.multiplier ** exponent));
  return Math.round(d * (1 - backoff.jitter) + backoff.random() * (d * backoff.jitter));
}
