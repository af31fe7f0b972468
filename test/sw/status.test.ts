import { afterEach, describe, expect, it, vi } from "vitest";
import { STATUS_COUNTS_DELAY_MS, StatusHub, type StatusMessage } from "../../sw/status.js";

describe("StatusHub heartbeat", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("republishes every heartbeat while calls are active, and stops when none is", async () => {
    vi.useFakeTimers();
    const posted: StatusMessage[] = [];
    const hub = new StatusHub((m) => posted.push(m), 5_000);
    hub.count("active");
    await vi.advanceTimersByTimeAsync(STATUS_COUNTS_DELAY_MS);
    expect(posted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(15_000 - STATUS_COUNTS_DELAY_MS);
    expect(posted).toHaveLength(4);
    expect(posted.every((m) => m.counters.active === 1)).toBe(true);
    hub.count("active", -1);
    await vi.advanceTimersByTimeAsync(STATUS_COUNTS_DELAY_MS);
    const after = posted.length;
    expect(posted.at(-1)!.counters.active).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(posted).toHaveLength(after);
  });

  it("posts the counter changes of a burst of calls in one message, within STATUS_COUNTS_DELAY_MS; a status change at once", async () => {
    vi.useFakeTimers();
    const posted: StatusMessage[] = [];
    const hub = new StatusHub((m) => posted.push(m));
    for (let i = 0; i < 50; i++) {
      hub.count("active");
      hub.count("carried");
      hub.count("active", -1);
    }
    await vi.advanceTimersByTimeAsync(STATUS_COUNTS_DELAY_MS - 1);
    expect(posted).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.counters).toMatchObject({ carried: 50, active: 0 });
    hub.setStatus("wss://gw.example/tunnel", "connected");
    await vi.advanceTimersByTimeAsync(0);
    expect(posted).toHaveLength(2);
    expect(posted[1]!.status).toBe("connected");
  });
});
