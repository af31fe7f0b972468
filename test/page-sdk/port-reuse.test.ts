/**
 * Reusing an idle port (page-sdk/port-mux.ts) under fake timers, fake ports and a fake
 * Web Lock: sequential calls share one port while the worker's lock is held, a port ages
 * out, and a call the worker never accepted before its lock went is resent once.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalClientRequest } from "@connectrpc/connect/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { portCall } from "../../page-sdk/port-client.js";
import { PortMux } from "../../page-sdk/port-mux.js";
import { PORT_MAX_AGE_MS, parsePageMessage, parseWorkerMessage } from "../../port/messages.js";
import type { PortLike } from "../../port/port-like.js";

type Msg = { type: string; id?: number; [k: string]: unknown };

function fakePort() {
  let listener: ((event: MessageEvent) => void) | undefined;
  const state = { closed: false, posted: [] as Msg[], transfers: [] as Transferable[][] };
  const port: PortLike = {
    postMessage: (m: unknown, t?: Transferable[]) => (state.posted.push(m as Msg), state.transfers.push(t ?? [])),
    addEventListener: (_type, l) => {
      listener = l;
      for (const data of early.splice(0)) l({ data } as MessageEvent);
    },
    close: () => (state.closed = true),
  };
  const early: unknown[] = []; // posted before the page listens (a real port queues them)
  const fromWorker = (data: unknown) => (listener ? listener({ data } as MessageEvent) : early.push(data));
  return { port, state, fromWorker };
}

/** navigator.locks stand-in: `release(name)` grants the page's queued request. */
function fakeLocks() {
  const queued = new Map<string, () => Promise<void>>();
  const locks = {
    request: (name: string, _opts: unknown, cb: () => Promise<void>) => {
      queued.set(name, cb);
      return new Promise<void>(() => {});
    },
  };
  return { locks, release: (name: string) => void queued.get(name)?.() };
}

let lock: ReturnType<typeof fakeLocks>;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  lock = fakeLocks();
  vi.stubGlobal("navigator", { locks: lock.locks });
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function muxWithPorts() {
  const ports: ReturnType<typeof fakePort>[] = [];
  const mux = new PortMux({
    openPort: async () => {
      const p = fakePort();
      ports.push(p);
      p.fromWorker({ type: "locked", name: `lock${ports.length}` });
      return p.port;
    },
  });
  return { mux, ports };
}

const request = (body?: Uint8Array): UniversalClientRequest =>
  ({
    url: "http://app.test/svc/M",
    method: "POST",
    header: new Headers(),
    body: body
      ? (async function* () {
          yield body;
        })()
      : undefined,
  }) as unknown as UniversalClientRequest;

const answer = (p: ReturnType<typeof fakePort>, id: number) => p.fromWorker({ type: "head", id, status: 200, headers: [], trailers: [] });

describe("idle port reuse", () => {
  it("sequential calls reuse one port while the worker holds its lock; their starts ask for ack", async () => {
    const { mux, ports } = muxWithPorts();
    for (let i = 0; i < 5; i++) {
      const res = portCall(mux, request(new Uint8Array([i])), {});
      await vi.waitFor(() => expect(ports[0]!.state.posted.filter((m) => m.type === "start")).toHaveLength(i + 1));
      const start = ports[0]!.state.posted.filter((m) => m.type === "start")[i]!;
      expect(start.ack).toBe(true);
      expect(start.end).toBe(true);
      ports[0]!.fromWorker({ type: "accepted", id: start.id });
      answer(ports[0]!, start.id!);
      expect((await res).status).toBe(200);
    }
    expect(mux.opened).toBe(1);
    // Posted untransferred: the page keeps the body for a resend.
    expect(ports[0]!.state.transfers.every((t) => t.length === 0)).toBe(true);
  });

  it("an idle port without a known lock, or after idle, takes no new call", async () => {
    const ports: ReturnType<typeof fakePort>[] = [];
    const mux = new PortMux({ openPort: async () => (ports.push(fakePort()), ports.at(-1)!.port) });
    const a = await mux.link();
    a.remove(a.add({ message() {}, fail() {} }));
    expect(a.reusable).toBe(false); // no `locked`: today's rule
    const b = await mux.link();
    expect(b).not.toBe(a);
    ports[1]!.fromWorker({ type: "locked", name: "x" });
    b.remove(b.add({ message() {}, fail() {} }));
    expect(b.reusable).toBe(true);
    ports[1]!.fromWorker({ type: "idle" });
    expect(b.reusable).toBe(false);
  });

  it("a port takes no new calls PORT_MAX_AGE_MS after it opened, busy or idle", async () => {
    expect(PORT_MAX_AGE_MS).toBe(60_000);
    const { mux, ports } = muxWithPorts();
    const link = await mux.link();
    const id = link.add({ message() {}, fail() {} });
    for (let t = 0; t < PORT_MAX_AGE_MS - 2_000; t += 2_000) {
      await vi.advanceTimersByTimeAsync(2_000);
      ports[0]!.fromWorker({ type: "alive" });
    }
    expect(link.reusable).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    ports[0]!.fromWorker({ type: "alive" });
    expect(link.reusable).toBe(false);
    link.remove(id);
    expect(link.reusable).toBe(false);
    expect(await mux.link()).not.toBe(link);
  });

  it("lock granted before a complete-body call was accepted: resent on a fresh port and answered once", async () => {
    const { mux, ports } = muxWithPorts();
    const first = portCall(mux, request(new Uint8Array([1, 2, 3])), {});
    await vi.waitFor(() => expect(ports[0]!.state.posted).toHaveLength(1));
    ports[0]!.fromWorker({ type: "accepted", id: 1 });
    answer(ports[0]!, 1);
    await first;
    // Idle port reused; the worker is stopped before it reads the start.
    const res = portCall(mux, request(new Uint8Array([9, 8])), {});
    await vi.waitFor(() => expect(ports[0]!.state.posted).toHaveLength(2));
    lock.release("lock1");
    await vi.advanceTimersByTimeAsync(50);
    expect(mux.opened).toBe(2);
    expect(ports[0]!.state.closed).toBe(true);
    const resent = ports[1]!.state.posted.filter((m) => m.type === "start");
    expect(resent).toHaveLength(1);
    expect([...new Uint8Array((resent[0]!.body as ArrayBuffer[])[0]!)]).toEqual([9, 8]);
    expect(resent[0]!.end).toBe(true);
    answer(ports[1]!, resent[0]!.id!);
    answer(ports[1]!, resent[0]!.id!); // a duplicate is ignored
    expect((await res).status).toBe(200);
  });

  it("an accepted call whose worker's lock is granted fails unavailable (never resent)", async () => {
    const { mux, ports } = muxWithPorts();
    const res = portCall(mux, request(), {}).catch((e: unknown) => ConnectError.from(e));
    await vi.waitFor(() => expect(ports[0]!.state.posted).toHaveLength(1));
    ports[0]!.fromWorker({ type: "accepted", id: 1 });
    lock.release("lock1");
    await vi.advanceTimersByTimeAsync(50);
    const err = (await res) as ConnectError;
    expect(err.code).toBe(Code.Unavailable);
    expect(err.rawMessage).toMatch(/service worker was stopped/);
    expect(mux.opened).toBe(1);
  });

  it("a lock granted after idle is a normal release: a call that raced with idle still completes", async () => {
    const { mux, ports } = muxWithPorts();
    const res = portCall(mux, request(), {});
    await vi.waitFor(() => expect(ports[0]!.state.posted).toHaveLength(1));
    ports[0]!.fromWorker({ type: "idle" });
    lock.release("lock1");
    await vi.advanceTimersByTimeAsync(50);
    ports[0]!.fromWorker({ type: "accepted", id: 1 });
    answer(ports[0]!, 1);
    expect((await res).status).toBe(200);
    expect(mux.opened).toBe(1);
  });
});

describe("ack / accepted validation", () => {
  it("start's ack must be boolean; accepted needs an id", () => {
    const start = { type: "start", id: 1, method: "POST", path: "/x", headers: [], hasBody: false };
    expect(parsePageMessage({ ...start, ack: true })).toMatchObject({ ack: true });
    expect(parsePageMessage({ ...start, ack: "yes" })).toBeUndefined();
    expect(parseWorkerMessage({ type: "accepted", id: 3 })).toEqual({ type: "accepted", id: 3 });
    expect(parseWorkerMessage({ type: "accepted" })).toBeUndefined();
    expect(parseWorkerMessage({ type: "accepted", id: -1 })).toBeUndefined();
  });
});

describe("a port call's answer", () => {
  const started = async (ports: ReturnType<typeof fakePort>[]) => {
    await vi.waitFor(() => expect(ports[0]?.state.posted.some((m) => m.type === "start")).toBe(true));
    return ports[0]!.state.posted.find((m) => m.type === "start")!.id!;
  };

  it("is `complete` with the whole body when the head message ended the call", async () => {
    const { mux, ports } = muxWithPorts();
    const res = portCall(mux, request(), {});
    const id = await started(ports);
    const body = [new Uint8Array([1, 2]).buffer, new Uint8Array([3]).buffer];
    ports[0]!.fromWorker({ type: "head", id, status: 200, headers: [], body, trailers: [["x-t", "1"]] });
    const answer = await res;
    expect(answer.complete).toEqual(new Uint8Array([1, 2, 3]));
    expect(answer.trailer.get("x-t")).toBe("1");
  });

  it("has no `complete` when more is to come after the head", async () => {
    const { mux, ports } = muxWithPorts();
    const res = portCall(mux, request(), {});
    const id = await started(ports);
    ports[0]!.fromWorker({ type: "head", id, status: 200, headers: [], body: [new Uint8Array([1]).buffer] });
    const answer = await res;
    expect(answer.complete).toBeUndefined();
    ports[0]!.fromWorker({ type: "data", id, bytes: new Uint8Array([2]).buffer });
    ports[0]!.fromWorker({ type: "trailers", id, trailers: [] });
    const chunks: number[] = [];
    for await (const c of answer.body) chunks.push(...c);
    expect(chunks).toEqual([1, 2]);
  });
});
