import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BenchClient, sparse } from "../../bench/page/workloads.js";

describe("sparse workload", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("times each call alone after its idle gap, and reports median and p90", async () => {
    // Call i takes (i + 1) ms; the warm-up call takes 50 ms and is not counted.
    const durations = [50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const startedAt: number[] = [];
    const client: BenchClient = {
      hello: () => {
        startedAt.push(performance.now());
        const ms = durations.shift() ?? 0;
        return new Promise((resolve) => setTimeout(resolve, ms));
      },
    };
    const done = sparse(client, 10, 250, 1);
    await vi.runAllTimersAsync();
    const result = await done;
    expect(result.calls).toBe(10);
    expect(result.latenciesUs).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000]);
    expect(result.medianUs).toBe(5000);
    expect(result.p90Us).toBe(9000);
    // Every timed call started a full gap after the previous one ended.
    const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i] - (i === 0 ? 50 : i));
    expect(gaps.every((g) => g === 250)).toBe(true);
  });
});
