/**
 * The session's time-based rules under fake timers, on in-memory sockets: the keepalive
 * watchdog (silence after announced pings), the connect timeout, and a body pump that
 * stays put without window however long nothing happens.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createTunnelClient, type TunnelClientOptions } from "../../client/index.js";
import type { ResponseHeadersFrame } from "../../protocol/index.js";
import { fakeWebSocket } from "./fake-websocket.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "clearImmediate", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(options: Partial<TunnelClientOptions> = {}) {
  const ws = fakeWebSocket();
  const client = createTunnelClient({ url: "ws://gw.test/tunnel", WebSocket: ws.WebSocket, ...options });
  return { ...ws, client };
}

const head: ResponseHeadersFrame = { kind: "response-headers", streamId: 1, endStream: false, status: 200, headers: [] };

describe("keepalive", () => {
  it("declares the socket dead when a gateway that announced pings stays silent", async () => {
    const { sockets, client } = setup();
    const p = client.request({ method: "POST", path: "/x", headers: [] });
    sockets[0]!.open({ pingIntervalMs: 100 });
    sockets[0]!.receive(head);
    const res = await p;
    const body = res.body[Symbol.asyncIterator]().next();
    let failed: unknown;
    body.catch((e: unknown) => (failed = e));
    // The limit is two intervals and a second: 1 200 ms; the check runs every interval.
    await vi.advanceTimersByTimeAsync(1_200);
    expect(failed).toBeUndefined();
    expect(sockets[0]!.closed).toBeNull();
    await vi.advanceTimersByTimeAsync(100);
    expect(failed).toMatchObject({ code: 14, rawMessage: expect.stringMatching(/no frame from the gateway for 1200 ms/) });
    expect(sockets[0]!.closed).not.toBeNull();
    expect(client.status).toBe("reconnecting");
  });

  it("any frame from the gateway resets the silence clock", async () => {
    const { sockets, client } = setup();
    const p = client.request({ method: "POST", path: "/x", headers: [] });
    sockets[0]!.open({ pingIntervalMs: 100 });
    sockets[0]!.receive(head);
    await p;
    for (let i = 0; i < 20; i++) {
      await vi.advanceTimersByTimeAsync(1_000);
      sockets[0]!.receive({ kind: "ping", data: new Uint8Array(8) });
    }
    expect(sockets[0]!.closed).toBeNull();
    expect(sockets[0]!.sent.filter((f) => f.kind === "pong")).toHaveLength(20);
    expect(client.status).toBe("connected");
    client.close();
  });

  it("a gateway that announces no pings (pingIntervalMs 0) is never timed out", async () => {
    const { sockets, client } = setup();
    const p = client.request({ method: "POST", path: "/x", headers: [] });
    sockets[0]!.open({ pingIntervalMs: 0 });
    sockets[0]!.receive(head);
    await p;
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(sockets[0]!.closed).toBeNull();
    client.close();
  });
});

describe("connect timeout", () => {
  it("a gateway that never sends SETTINGS fails calls after connectTimeoutMs (not before)", async () => {
    const { sockets, client } = setup({ connectTimeoutMs: 200 });
    let failed: unknown;
    client.request({ method: "POST", path: "/x", headers: [] }).catch((e: unknown) => (failed = e));
    sockets[0]!.open(); // no SETTINGS
    await vi.advanceTimersByTimeAsync(199);
    expect(failed).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(failed).toMatchObject({ code: 14, rawMessage: expect.stringMatching(/within 200 ms \(connectTimeoutMs\)/) });
    expect(sockets[0]!.closed).not.toBeNull();
  });
});

describe("request body pump", () => {
  it("pulls an AsyncIterable request body only when there is window", async () => {
    const { sockets, client } = setup();
    let pulls = 0;
    async function* body() {
      for (let i = 0; i < 100; i++) {
        pulls++;
        yield new Uint8Array(8 << 10).fill(i);
      }
    }
    const p = client.request({ method: "POST", path: "/stream", headers: [], body: body() });
    sockets[0]!.open({ initialStreamWindow: 32 << 10, pingIntervalMs: 0 });
    // Run everything that would run (microtasks, immediates, timers) with no credit coming.
    await vi.runAllTimersAsync();
    const sent = () => sockets[0]!.sent.reduce((n, f) => n + (f.kind === "data" ? f.data.length : 0), 0);
    expect(sent()).toBe(32 << 10);
    // 4 chunks fill the window; the pump may not pull a fifth before credit arrives.
    expect(pulls).toBe(4);
    sockets[0]!.receive({ kind: "window-update", streamId: 1, increment: 100 * (8 << 10) });
    await vi.runAllTimersAsync();
    expect(sent()).toBe(100 * (8 << 10));
    expect(sockets[0]!.sent.at(-1)).toMatchObject({ kind: "data", endStream: true });
    sockets[0]!.receive({ ...head, endStream: true });
    expect((await p).status).toBe(200);
  });
});
