import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ClientWatch } from "../../sw/client-watch.js";
import type { ClientLike } from "../../sw/scope.js";

const client = (id: string): ClientLike => ({ id, url: "https://app.example/", postMessage() {} });

describe("ClientWatch", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("calls onGone once the client is gone, and only for that client", async () => {
    const alive = new Set(["a", "b"]);
    const watch = new ClientWatch({ get: async (id) => (alive.has(id) ? client(id) : undefined) }, 1000);
    const gone: string[] = [];
    watch.watch("a", () => gone.push("a"));
    watch.watch("b", () => gone.push("b"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(gone).toEqual([]);
    alive.delete("a");
    await vi.advanceTimersByTimeAsync(1000);
    expect(gone).toEqual(["a"]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(gone).toEqual(["a"]);
    expect(watch.size).toBe(1);
  });

  it("stops polling once nothing is watched, and never watches an empty id", async () => {
    const get = vi.fn(async (id: string) => client(id));
    const watch = new ClientWatch({ get }, 1000);
    expect(watch.watch("", () => {})).toBeTypeOf("function");
    const stop = watch.watch("a", () => {});
    await vi.advanceTimersByTimeAsync(1000);
    expect(get).toHaveBeenCalledTimes(1);
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(get).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps the call when the lookup fails", async () => {
    const watch = new ClientWatch({ get: async () => Promise.reject(new Error("no")) }, 1000);
    const onGone = vi.fn();
    watch.watch("a", onGone);
    await vi.advanceTimersByTimeAsync(3000);
    expect(onGone).not.toHaveBeenCalled();
  });
});
