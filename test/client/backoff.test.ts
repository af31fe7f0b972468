/**
 * The reconnect backoff: the pure delay function, and the tunnel client waiting it out
 * between failed connect attempts (fake timers, in-memory sockets).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BACKOFF_DEFAULTS, backoffDelay, resolveBackoff } from "../../client/backoff.js";
import { createTunnelClient, type TunnelClientOptions } from "../../client/index.js";
import { fakeWebSocket } from "./fake-websocket.js";

describe("backoffDelay", () => {
  const top = resolveBackoff({ random: () => 1 }); // the upper bound of each draw
  const bottom = resolveBackoff({ random: () => 0 }); // the lower bound

  it("doubles from initialDelayMs up to maxDelayMs with the defaults", () => {
    expect(BACKOFF_DEFAULTS).toEqual({ initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2, jitter: 0.5 });
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, top))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect([1, 2, 3, 7].map((n) => backoffDelay(n, bottom))).toEqual([50, 100, 200, 2500]);
  });

  it("draws uniformly within [d * (1 - jitter), d]", () => {
    const draws = [0, 0.25, 0.5, 0.999];
    let i = 0;
    const b = resolveBackoff({ initialDelayMs: 1000, random: () => draws[i++]! });
    expect(draws.map(() => backoffDelay(1, b))).toEqual([500, 625, 750, 1000]);
  });

  it("jitter 0 is deterministic; jitter 1 spans [0, d]", () => {
    expect(backoffDelay(3, resolveBackoff({ jitter: 0, random: () => 0.7 }))).toBe(400);
    expect(backoffDelay(3, resolveBackoff({ jitter: 1, random: () => 0 }))).toBe(0);
    expect(backoffDelay(3, resolveBackoff({ jitter: 1, random: () => 0.5 }))).toBe(200);
  });

  it("a custom multiplier grows the bound by that factor; 1 keeps it constant", () => {
    const triple = resolveBackoff({ initialDelayMs: 10, multiplier: 3, jitter: 0, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, triple))).toEqual([10, 30, 90, 270, 810]);
    expect(backoffDelay(6, triple)).toBe(1000);
    const flat = resolveBackoff({ initialDelayMs: 250, multiplier: 1, jitter: 0 });
    expect(backoffDelay(40, flat)).toBe(250);
  });

  it("stays finite and capped for any number of failures", () => {
    expect(backoffDelay(1_000_000, top)).toBe(5000);
    expect(backoffDelay(1_000, resolveBackoff({ initialDelayMs: 0, multiplier: 1e12 }))).toBe(0);
  });

  it("raises maxDelayMs to initialDelayMs and rejects nonsense", () => {
    expect(resolveBackoff({ initialDelayMs: 800, maxDelayMs: 100 }).maxDelayMs).toBe(800);
    expect(() => resolveBackoff({ multiplier: 0.5 })).toThrow(RangeError);
    expect(() => resolveBackoff({ jitter: 1.5 })).toThrow(RangeError);
    expect(() => resolveBackoff({ jitter: -0.1 })).toThrow(RangeError);
    expect(() => resolveBackoff({ initialDelayMs: -1 })).toThrow(RangeError);
    expect(() => resolveBackoff({ initialDelayMs: Number.NaN })).toThrow(RangeError);
    expect(() => resolveBackoff({ maxDelayMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});

describe("the tunnel client backs off between failed connect attempts", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(options: Partial<TunnelClientOptions> = {}) {
    const ws = fakeWebSocket();
    const client = createTunnelClient({ url: "ws://gw.test/tunnel", WebSocket: ws.WebSocket, reconnect: { random: () => 1 }, ...options });
    const call = () => client.request({ method: "POST", path: "/x", headers: [] });
    return { ...ws, client, call };
  }

  it("waits initialDelayMs, then twice that, ... before each new attempt", async () => {
    const { sockets, client, call } = setup();
    const first = call();
    expect(sockets).toHaveLength(1);
    sockets[0]!.fail();
    await expect(first).rejects.toThrow(/next attempt in 100 ms or later/);

    // A call during the backoff waits for the attempt instead of connecting at once.
    const second = call();
    await vi.advanceTimersByTimeAsync(99);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);
    expect(client.status).toBe("connecting");
    sockets[1]!.fail();
    await expect(second).rejects.toThrow(/next attempt in 200 ms or later/);

    const third = call();
    await vi.advanceTimersByTimeAsync(199);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
    sockets[2]!.open({});
    await vi.advanceTimersByTimeAsync(0);
    expect(client.status).toBe("connected");
    expect(sockets[2]!.sent.map((f) => f.kind)).toEqual(["settings", "request-headers"]);
    client.close();
    await expect(third).rejects.toThrow(/closed/);
  });

  it("is capped at maxDelayMs and uses the injected jitter", async () => {
    const { sockets, call } = setup({ reconnect: { initialDelayMs: 100, maxDelayMs: 300, random: () => 0 } });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p = call();
      await vi.advanceTimersByTimeAsync(delays.at(-1) ?? 0);
      expect(sockets).toHaveLength(i + 1);
      sockets[i]!.fail();
      const err = await p.then(
        () => undefined,
        (e: Error) => e,
      );
      delays.push(Number(/next attempt in (\d+) ms/.exec(String(err?.message))![1]));
    }
    // random 0 draws the lower bound, d / 2.
    expect(delays).toEqual([50, 100, 150, 150, 150]);
  });

  it("after a connection that worked, the next call reconnects at once and the count starts over", async () => {
    const { sockets, client, call } = setup();
    const p = call();
    sockets[0]!.fail();
    await expect(p).rejects.toThrow(/next attempt in 100 ms/);
    const q = call();
    await vi.advanceTimersByTimeAsync(100);
    sockets[1]!.open({});
    await vi.advanceTimersByTimeAsync(0);
    expect(client.status).toBe("connected");
    sockets[1]!.fail("gone");
    await expect(q).rejects.toThrow(/socket/);
    expect(client.status).toBe("reconnecting");
    const r = call();
    expect(sockets).toHaveLength(3); // no wait
    sockets[2]!.fail();
    await expect(r).rejects.toThrow(/next attempt in 100 ms/); // failures counted from 1 again
  });

  it("close() during a backoff cancels the pending attempt", async () => {
    const { sockets, client, call } = setup();
    const p = call();
    sockets[0]!.fail();
    await expect(p).rejects.toThrow();
    const q = call();
    client.close();
    await expect(q).rejects.toThrow(/closed/);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
