import { describe, expect, it, vi } from "vitest";
import { EnvelopeBoundary, iterableToStream, requestBody, streamToIterable } from "../../sw/body.js";

/** Resolves after every microtask queued so far ran (the next event-loop turn; not a timed wait). */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));
/** Resolves after the timers of 0 ms set so far ran. */
const nextTask = () => new Promise<void>((r) => setTimeout(r, 0));

describe("iterableToStream", () => {
  it("pulls one chunk per read: nothing is read ahead of the page", async () => {
    let pulled = 0;
    const body = (async function* () {
      for (let i = 0; i < 5; i++) {
        pulled++;
        yield new Uint8Array([i]);
      }
    })();
    const reader = iterableToStream(body).getReader();
    // Streams and generators run on microtasks: after a turn, any read-ahead would have happened.
    await nextTurn();
    expect(pulled).toBe(0);
    expect((await reader.read()).value).toEqual(new Uint8Array([0]));
    await nextTurn();
    expect(pulled).toBe(1);
  });

  it("cancel by the page returns the iterator (the tunnel resets the stream) and reports it once", async () => {
    let returned = false;
    let cancels = 0;
    const ends: unknown[] = [];
    const body = (async function* () {
      try {
        for (;;) yield new Uint8Array([1]);
      } finally {
        returned = true;
      }
    })();
    const stream = iterableToStream(body, { onCancel: () => cancels++, onEnd: (e) => ends.push(e) });
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel();
    await nextTask();
    await nextTurn();
    expect(returned).toBe(true);
    expect(cancels).toBe(1);
    expect(ends).toHaveLength(1);
  });

  it("the tunnel is told of a cancel in a later task, never inside the cancel callback (WebKitGTK wedged)", async () => {
    let cancels = 0;
    const ends: unknown[] = [];
    const body = (async function* () {
      for (;;) yield new Uint8Array([1]);
    })();
    // Only setTimeout is faked: a real 0 ms timer and setImmediate race in Node (which runs
    // first depends on how long this turn took), so the later task is released by hand.
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      const stream = iterableToStream(body, { onCancel: () => cancels++, onEnd: (e) => ends.push(e) });
      const reader = stream.getReader();
      await reader.read();
      const cancelled = reader.cancel();
      expect(cancels).toBe(0);
      await cancelled;
      await nextTurn();
      expect(cancels).toBe(0); // microtasks and the cancel's own promise are not enough
      expect(ends).toHaveLength(1); // the call's end (the worker's lifetime) is reported at once
      vi.runOnlyPendingTimers();
      expect(cancels).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a cancel while a pull waits on the tunnel returns at once; the pull ends later without an error", async () => {
    let abort: ((e: Error) => void) | undefined;
    let cancels = 0;
    const ends: unknown[] = [];
    // A tunnel body whose pending chunk fails only when the test says so (the tunnel's
    // reset arriving some time after the page cancelled).
    const body = (async function* () {
      yield new Uint8Array([1]);
      await new Promise<never>((_, reject) => (abort = reject));
    })();
    const stream = iterableToStream(body, { flavor: "connect-stream", onCancel: () => cancels++, onEnd: (e) => ends.push(e) });
    const reader = stream.getReader();
    await reader.read();
    const pending = reader.read();
    await vi.waitFor(() => expect(abort).toBeTypeOf("function")); // a pull now waits on the tunnel
    await reader.cancel(); // must not wait for that pull
    await nextTask();
    expect(cancels).toBe(1);
    abort!(new Error("stream reset"));
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(ends).toHaveLength(1);
  });

  it("an error without a protocol tail errors the stream", async () => {
    const body = (async function* () {
      yield new Uint8Array([1]);
      throw new Error("boom");
    })();
    const reader = iterableToStream(body).getReader();
    await reader.read();
    await expect(reader.read()).rejects.toThrow("boom");
  });
});

describe("EnvelopeBoundary", () => {
  it("knows when a byte stream is between envelopes, across any chunking", () => {
    const env = (n: number) => new Uint8Array([0, 0, 0, 0, n, ...new Array(n).fill(7)]);
    const all = new Uint8Array([...env(3), ...env(0), ...env(300 & 0xff)]);
    for (let cut = 1; cut < all.length; cut++) {
      const b = new EnvelopeBoundary();
      b.push(all.subarray(0, cut));
      const atBoundaryExpected = cut === 8 || cut === 13;
      expect(b.atBoundary(), `cut ${cut}`).toBe(atBoundaryExpected);
      b.push(all.subarray(cut));
      expect(b.atBoundary()).toBe(true);
    }
  });
});

describe("requestBody", () => {
  it("buffers when asked, streams otherwise, and has none for GET", async () => {
    const mk = () => new Request("https://x/", { method: "POST", body: new Uint8Array([1, 2, 3]) });
    expect(await requestBody(mk(), { buffer: true })).toEqual(new Uint8Array([1, 2, 3]));
    const streamed = await requestBody(mk(), { buffer: false });
    const parts: number[] = [];
    for await (const c of streamed as AsyncIterable<Uint8Array>) parts.push(...c);
    expect(parts).toEqual([1, 2, 3]);
    expect(await requestBody(new Request("https://x/"), { buffer: false })).toBeNull();
  });

  it("stopping the iteration early cancels the source stream", async () => {
    let cancelled = false;
    const src = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array([1])),
      cancel: () => {
        cancelled = true;
      },
    });
    for await (const _ of streamToIterable(src)) break;
    expect(cancelled).toBe(true);
  });
});
