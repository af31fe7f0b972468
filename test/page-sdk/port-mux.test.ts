/**
 * page-sdk's shared port (page-sdk/port-mux.ts) under fake timers: the watchdog that fails
 * calls when the worker goes silent, and when a port may take a new call.
 */
import type { ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PortLink, PortMux, type CallHandler } from "../../page-sdk/port-mux.js";
import { PORT_DEAD_AFTER_MS, PORT_HEARTBEAT_MS } from "../../port/messages.js";
import type { PortLike } from "../../port/port-like.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A port the test speaks for the worker through `fromWorker`. */
function fakePort() {
  let listener: ((event: MessageEvent) => void) | undefined;
  const state = { closed: false, posted: [] as unknown[] };
  const port: PortLike = {
    postMessage: (m) => state.posted.push(m),
    addEventListener: (_type, l) => (listener = l),
    close: () => (state.closed = true),
  };
  return { port, state, fromWorker: (data: unknown) => listener!({ data } as MessageEvent) };
}

function handler() {
  const errors: ConnectError[] = [];
  const h: CallHandler = { message() {}, fail: (e) => errors.push(e) };
  return { h, errors };
}

describe("PortLink watchdog", () => {
  it("defaults: dead after 10 s of silence, a heartbeat every 2 s", () => {
    expect(PORT_DEAD_AFTER_MS).toBe(10_000);
    expect(PORT_HEARTBEAT_MS).toBe(2_000);
  });

  it("fails every call with unavailable once the worker was silent longer than deadAfterMs", async () => {
    const { port, state } = fakePort();
    const closed: PortLink[] = [];
    const link = new PortLink(port, 1_000, (l) => closed.push(l));
    const a = handler();
    const b = handler();
    link.add(a.h);
    link.add(b.h);
    // Checked every deadAfterMs / 4: silence of exactly 1 000 ms is still alive.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a.errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(250);
    expect(a.errors.map((e) => [e.code, e.rawMessage])).toEqual([[14, expect.stringMatching(/stopped answering for 1000 ms/)]]);
    expect(b.errors).toHaveLength(1);
    expect(link.dead).toBe(true);
    expect(state.closed).toBe(true);
    expect(closed).toEqual([link]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("any message from the worker (alive) keeps the calls going", async () => {
    const { port, fromWorker } = fakePort();
    const link = new PortLink(port, 1_000, () => {});
    const a = handler();
    link.add(a.h);
    for (let i = 0; i < 30; i++) {
      await vi.advanceTimersByTimeAsync(900);
      fromWorker({ type: "alive" });
    }
    expect(a.errors).toEqual([]);
    expect(link.dead).toBe(false);
  });

  it("runs only while calls are registered, and the silence clock starts with the first call", async () => {
    const { port } = fakePort();
    const link = new PortLink(port, 1_000, () => {});
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000); // silence without calls is no death
    const a = handler();
    const id = link.add(a.h);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a.errors).toEqual([]);
    link.remove(id);
    expect(vi.getTimerCount()).toBe(0);
    expect(link.dead).toBe(false);
  });

  it("checks at least every 50 ms for a short deadAfterMs", async () => {
    const { port } = fakePort();
    const link = new PortLink(port, 100, () => {});
    const a = handler();
    link.add(a.h);
    await vi.advanceTimersByTimeAsync(100);
    expect(a.errors).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(50);
    expect(a.errors).toHaveLength(1);
  });
});

describe("PortLink reuse", () => {
  it("an idle port takes no new call: the worker may have stopped between calls", async () => {
    const { port, fromWorker } = fakePort();
    const link = new PortLink(port, PORT_DEAD_AFTER_MS, () => {});
    const id = link.add(handler().h);
    fromWorker({ type: "alive" });
    expect(link.reusable).toBe(true);
    link.remove(id);
    expect(link.reusable).toBe(false);
  });

  it("a port with calls running takes new ones while the heartbeat is fresh, not after two heartbeats of silence", async () => {
    const { port, fromWorker } = fakePort();
    const link = new PortLink(port, 60_000, () => {});
    link.add(handler().h);
    fromWorker({ type: "alive" });
    await vi.advanceTimersByTimeAsync(2 * PORT_HEARTBEAT_MS - 1);
    expect(link.reusable).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(link.reusable).toBe(false);
    fromWorker({ type: "alive" });
    expect(link.reusable).toBe(true);
  });
});

describe("PortMux", () => {
  it("shares the port while calls run and opens a fresh one for a call on an idle link; the old one closes", async () => {
    const ports: ReturnType<typeof fakePort>[] = [];
    const mux = new PortMux({
      openPort: async () => {
        const p = fakePort();
        ports.push(p);
        return p.port;
      },
    });
    const first = await mux.link();
    const id = first.add(handler().h);
    expect(await mux.link()).toBe(first);
    first.remove(id);
    const second = await mux.link();
    expect(second).not.toBe(first);
    expect(mux.opened).toBe(2);
    await vi.waitFor(() => expect(ports[0]!.state.closed).toBe(true));
  });

  it("a link whose watchdog fired is replaced on the next call", async () => {
    const mux = new PortMux({ openPort: async () => fakePort().port, deadAfterMs: 1_000 });
    const first = await mux.link();
    const a = handler();
    first.add(a.h);
    await vi.advanceTimersByTimeAsync(1_250);
    expect(a.errors).toHaveLength(1);
    const second = await mux.link();
    expect(second).not.toBe(first);
    expect(mux.opened).toBe(2);
  });
});
