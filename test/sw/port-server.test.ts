/**
 * The worker's port server, its timers under fake timers: the heartbeat while calls run,
 * and the linger after the last call (then `idle`, and the waitUntil promise settles).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PORT_HEARTBEAT_MS, PORT_LINGER_MS } from "../../port/messages.js";
import type { PortLike } from "../../port/port-like.js";
import { TunnelPool } from "../../sw/pool.js";
import { servePort } from "../../sw/port-server.js";
import { StatusHub } from "../../sw/status.js";
import type { TunnelCallResponse } from "../../sw/types.js";
import { fakeClient, response } from "./fake-client.js";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A port whose messages to the page are recorded; `send` is the page posting to the worker. */
function fakePort() {
  const toPage: Array<{ type: string; [k: string]: unknown }> = [];
  let listener: ((event: MessageEvent) => void) | undefined;
  const port: PortLike = {
    postMessage: (m) => toPage.push(m as { type: string }),
    addEventListener: (_type, l) => (listener = l),
    close() {},
  };
  const send = (data: unknown) => listener!({ data } as MessageEvent);
  return { port, toPage, send };
}

/** Calls answered by the test: each `start` waits until its `answer` is called. */
function setup(options: { heartbeatMs?: number; lingerMs?: number } = {}) {
  const answers: Array<(r: TunnelCallResponse) => void> = [];
  const client = fakeClient(() => new Promise<TunnelCallResponse>((resolve) => answers.push(resolve)));
  const hub = new StatusHub();
  const pool = new TunnelPool(() => client, hub);
  const { port, toPage, send } = fakePort();
  let settled = false;
  void servePort(port, { pool, hub, workerUrl: "https://app.test/sw.js", defaultGateway: "wss://app.test/tunnel", ...options }).then(
    () => (settled = true),
  );
  const start = (id: number) => send({ type: "start", id, method: "POST", path: "/x", headers: [], hasBody: false });
  const alive = () => toPage.filter((m) => m.type === "alive").length;
  return { answers, toPage, start, alive, hub, isSettled: () => settled };
}

const done = () => response(200, [], [], [["grpc-status", "0"]]);

describe("port server timers", () => {
  it("defaults: heartbeat every 2 s, linger 5 s", () => {
    expect(PORT_HEARTBEAT_MS).toBe(2_000);
    expect(PORT_LINGER_MS).toBe(5_000);
  });

  it("posts alive every heartbeatMs while a call runs, and stops when none does", async () => {
    const { answers, start, alive, toPage } = setup({ heartbeatMs: 100 });
    start(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(alive()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(alive()).toBe(1);
    await vi.advanceTimersByTimeAsync(400);
    expect(alive()).toBe(5);
    answers[0]!(done());
    await vi.advanceTimersByTimeAsync(0);
    expect(toPage.some((m) => m.type === "head" && m.id === 1)).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(alive()).toBe(5);
  });

  it("one heartbeat for many calls on the port", async () => {
    const { start, alive } = setup({ heartbeatMs: 100 });
    start(1);
    start(2);
    start(3);
    await vi.advanceTimersByTimeAsync(300);
    expect(alive()).toBe(3);
  });

  it("lingers lingerMs after the last call, then posts idle and settles the waitUntil promise", async () => {
    const { answers, start, toPage, isSettled, hub } = setup({ heartbeatMs: 100, lingerMs: 1_000 });
    start(1);
    await vi.advanceTimersByTimeAsync(0);
    answers[0]!(done());
    await vi.advanceTimersByTimeAsync(999);
    expect(hub.counters.active).toBe(0);
    expect(toPage.some((m) => m.type === "idle")).toBe(false);
    expect(isSettled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(toPage.filter((m) => m.type === "idle")).toHaveLength(1);
    expect(isSettled()).toBe(true);
  });

  it("a call that starts during the linger cancels it; the linger starts again after that call", async () => {
    const { answers, start, toPage, isSettled } = setup({ lingerMs: 1_000 });
    start(1);
    await vi.advanceTimersByTimeAsync(0);
    answers[0]!(done());
    await vi.advanceTimersByTimeAsync(900);
    start(2);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(toPage.some((m) => m.type === "idle")).toBe(false);
    expect(isSettled()).toBe(false);
    answers[1]!(done());
    await vi.advanceTimersByTimeAsync(999);
    expect(isSettled()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(isSettled()).toBe(true);
  });

  it("does not settle before a first call, and posts idle only once", async () => {
    const { answers, start, toPage, isSettled } = setup({ lingerMs: 1_000 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(isSettled()).toBe(false);
    start(1);
    await vi.advanceTimersByTimeAsync(0);
    answers[0]!(done());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(isSettled()).toBe(true);
    // A late call is still served, but no second idle follows it.
    start(2);
    await vi.advanceTimersByTimeAsync(0);
    answers[1]!(done());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(toPage.filter((m) => m.type === "head")).toHaveLength(2);
    expect(toPage.filter((m) => m.type === "idle")).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("port server: what goes in the head message", () => {
  /** A call with this content type whose answer's body comes one gate at a time, opened by the test. */
  function gatedCall(contentType: string) {
    const gates: Array<() => void> = [];
    const gate = () => new Promise<void>((r) => gates.push(r));
    const client = fakeClient(() =>
      response(200, [["content-type", contentType]], [new Uint8Array([1, 2, 3])], [["x-end", "1"]], { gate }),
    );
    const hub = new StatusHub();
    const { port, toPage, send } = fakePort();
    void servePort(port, {
      pool: new TunnelPool(() => client, hub),
      hub,
      workerUrl: "https://app.test/sw.js",
      defaultGateway: "wss://app.test/tunnel",
    });
    send({ type: "start", id: 1, method: "POST", path: "/x", headers: [["Content-Type", contentType]], hasBody: false });
    return { toPage, gates };
  }

  it("a Connect unary answer whose body comes tasks after its head goes as one message: head, body and trailers", async () => {
    const { toPage, gates } = gatedCall("application/proto");
    await vi.advanceTimersByTimeAsync(10);
    expect(toPage.filter((m) => m.type === "head")).toHaveLength(0); // the head waits for the body
    gates.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    const messages = toPage.filter((m) => m.type !== "alive");
    expect(messages.map((m) => m.type)).toEqual(["head"]);
    expect(messages[0]!.body).toEqual([new Uint8Array([1, 2, 3]).buffer]);
    expect(messages[0]!.trailers).toEqual([["x-end", "1"]]);
  });

  it("a streaming answer's head goes at once: the page may act on it before any message", async () => {
    const { toPage, gates } = gatedCall("application/connect+proto");
    await vi.advanceTimersByTimeAsync(10);
    expect(toPage.filter((m) => m.type === "head")).toHaveLength(1);
    gates.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    expect(toPage.filter((m) => m.type !== "alive").map((m) => m.type)).toEqual(["head", "data", "trailers"]);
  });
});
