import { afterEach, describe, expect, it, vi } from "vitest";
import { StatusHub, type StatusMessage } from "../../sw/status.js";

describe("StatusHub heartbeat", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("republishes every heartbeat while calls are active, and stops when none is", async () => {
    vi.useFakeTimers();
    const posted: StatusMessage[] = [];
    const hub = new StatusHub((m) => posted.push(m), 5_000);
    hub.count("active");
    await vi.advanceTimersByTimeAsync(0);
    expect(posted).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(posted).toHaveLength(4);
    expect(posted.every((m) => m.counters.active === 1)).toBe(true);
    hub.count("active", -1);
    await vi.advanceTimersByTimeAsync(0);
    const after = posted.length;
    expect(posted.at(-1)!.counters.active).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(posted).toHaveLength(after);
  });
});
