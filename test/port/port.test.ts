// page-sdk's transport and the worker's port server, joined by a real MessageChannel.
// The tunnel client is a stand-in that hands each call to an in-memory Connect router
// (the unit under test is the MessagePort protocol, not the tunnel).
import { MessageChannel } from "node:worker_threads";
import { Code, ConnectError, createClient, createConnectRouter } from "@connectrpc/connect";
import { createUniversalHandlerClient } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createTunnelTransport } from "../../page-sdk/transport.js";
import { TunnelPool } from "../../sw/pool.js";
import { CreditBatcher, CreditGate, parsePageMessage, parseWorkerMessage } from "../../port/messages.js";
import type { PortLike } from "../../port/port-like.js";
import { servePort } from "../../sw/port-server.js";
import { StatusHub } from "../../sw/status.js";
import type { TunnelClientLike } from "../../sw/types.js";

const cancelled = new Set<string>();

/** Resolves after every microtask queued so far ran (the next event-loop turn; not a timed wait). */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

function routerClient(): TunnelClientLike {
  const router = createConnectRouter();
  router.service(TestService, {
    unary: (req, ctx) => ({ text: req.text, timeoutMs: BigInt(ctx.timeoutMs() ?? -1), payload: req.payload }),
    async *serverStream(req, ctx) {
      for (let i = 0; i < req.count; i++) {
        if (req.intervalMs) await new Promise((r) => setTimeout(r, req.intervalMs));
        if (ctx.signal.aborted) {
          cancelled.add(req.id);
          return;
        }
        yield { index: i, payload: new Uint8Array(req.size) };
      }
    },
    async clientStream(reqs) {
      let count = 0;
      let totalBytes = 0n;
      for await (const r of reqs) {
        count++;
        totalBytes += BigInt(r.payload.length);
      }
      return { count, totalBytes };
    },
    async *bidi(reqs) {
      let i = 0;
      for await (const r of reqs) yield { index: i++, text: r.text };
    },
    fail: (req) => {
      throw new ConnectError(req.message, req.code as Code);
    },
    inspect: () => ({}),
  });
  const http = createUniversalHandlerClient(router.handlers);
  return {
    status: "connected",
    close() {},
    async request(req) {
      const res = await http({
        url: `http://backend${req.path}`,
        method: req.method,
        header: new Headers(req.headers as [string, string][]),
        body:
          req.body instanceof Uint8Array
            ? (async function* () {
                yield req.body as Uint8Array;
              })()
            : (req.body ?? undefined),
        signal: req.signal,
      });
      return {
        status: res.status,
        headers: [...res.header],
        body: res.body,
        trailers: () => [...res.trailer],
      };
    },
  };
}

type Sent = { type: string; [k: string]: unknown };

/**
 * A transport joined to servePort by real MessageChannels. `dead` makes the next ports
 * lead nowhere (a stopped worker); every message each way is recorded.
 */
function setup(opts: { lingerMs?: number; deadAfterMs?: number } = {}) {
  const hub = new StatusHub();
  const pool = new TunnelPool(() => routerClient(), hub);
  const log = { opened: 0, toWorker: [] as Sent[], toPage: [] as Sent[], dead: false };
  const served: Array<{ close(): void }> = [];
  /** The browser stops the worker: every port served so far leads nowhere from now on. */
  const stopWorker = () => {
    for (const p of served.splice(0)) p.close();
  };
  const openPort = async () => {
    log.opened++;
    const { port1, port2 } = new MessageChannel();
    served.push(port2);
    if (!log.dead) {
      const served = port2 as unknown as PortLike;
      const post = served.postMessage.bind(served);
      served.postMessage = (m: unknown, t?: Transferable[]) => (log.toPage.push(m as Sent), post(m, t));
      void servePort(served, {
        pool,
        hub,
        workerUrl: "http://app.test/sw.js",
        defaultGateway: "ws://app.test/tunnel",
        lingerMs: opts.lingerMs,
      });
    }
    const page = port1 as unknown as PortLike;
    const post = page.postMessage.bind(page);
    page.postMessage = (m: unknown, t?: Transferable[]) => (log.toWorker.push(m as Sent), post(m, t));
    return page;
  };
  const client = createClient(TestService, createTunnelTransport({ baseUrl: "http://app.test", openPort, deadAfterMs: opts.deadAfterMs }));
  return { client, hub, log, stopWorker };
}

describe("page-sdk transport over the MessagePort protocol", () => {
  it("unary, with the deadline reaching the server", async () => {
    const { client, hub } = setup();
    const res = await client.unary({ text: "hi" }, { timeoutMs: 5000 });
    expect(res.text).toBe("hi");
    expect(Number(res.timeoutMs)).toBeGreaterThan(0);
    expect(hub.counters.portCalls).toBe(1);
  });

  it("server streaming delivers every message", async () => {
    const { client } = setup();
    const got: number[] = [];
    for await (const m of client.serverStream({ count: 50, size: 1000 })) got.push(m.index);
    expect(got).toEqual([...Array(50).keys()]);
  });

  it("client streaming of 1,000 messages (more bytes than the port window)", async () => {
    const { client } = setup();
    const res = await client.clientStream(
      (async function* () {
        for (let i = 0; i < 1000; i++) yield { text: String(i), payload: new Uint8Array(1024) };
      })(),
    );
    expect(res.count).toBe(1000);
    expect(res.totalBytes).toBe(1024000n);
  });

  it("bidi ping-pong: each answer arrives before the next request is sent", async () => {
    const { client } = setup();
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    const requests = (async function* () {
      for (let i = 0; i < 5; i++) {
        yield { text: `ping ${i}` };
        await new Promise<void>((r) => (wake = r));
      }
    })();
    for await (const res of client.bidi(requests)) {
      queue.push(res.text);
      wake?.();
    }
    expect(queue).toEqual(["ping 0", "ping 1", "ping 2", "ping 3", "ping 4"]);
  });

  it("errors keep their code and message", async () => {
    const { client } = setup();
    const err = await client.fail({ code: Code.NotFound, message: "no such thing" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toBe("no such thing");
  });

  it("an abort mid-stream cancels the call on the worker side", async () => {
    const { client, hub } = setup();
    const ac = new AbortController();
    const got: number[] = [];
    const err = await (async () => {
      for await (const m of client.serverStream({ id: "abort-1", count: 1000, intervalMs: 5 }, { signal: ac.signal })) {
        got.push(m.index);
        if (got.length === 3) ac.abort();
      }
    })().catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Canceled);
    await expect.poll(() => cancelled.has("abort-1")).toBe(true);
    await expect.poll(() => hub.counters.active).toBe(0);
  });

  it("a worker that stops answering fails the call with unavailable instead of hanging", async () => {
    const transport = createTunnelTransport({
      baseUrl: "http://app.test",
      deadAfterMs: 200,
      openPort: async () => new MessageChannel().port1 as unknown as PortLike, // nobody on the other end
    });
    const err = await createClient(TestService, transport)
      .unary({ text: "x" })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect((err as ConnectError).rawMessage).toMatch(/service worker stopped answering/);
  });
});

describe("one shared port, few messages", () => {
  it("a unary call is one start and one head (plus the accepted its ack asks for)", async () => {
    const { client, log } = setup();
    expect((await client.unary({ text: "one" })).text).toBe("one");
    expect(log.toWorker.map((m) => m.type)).toEqual(["start"]);
    // The first call on a port asks for `accepted` (a resend needs it if the worker is gone).
    expect(log.toWorker[0]).toMatchObject({ end: true, hasBody: true, ack: true });
    expect((log.toWorker[0]!.body as ArrayBuffer[]).length).toBe(1);
    expect(log.toPage.map((m) => m.type)).toEqual(["accepted", "head"]);
    // Connect (the transport's default protocol): the call ended in its head message.
    expect(log.toPage[1]!.trailers).toEqual([]);
    expect((log.toPage[1]!.body as ArrayBuffer[]).length).toBeGreaterThan(0);
  });

  it("100 concurrent calls of every kind share one port, told apart by id", async () => {
    const { client, log, hub } = setup();
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        if (i % 3 === 0) return (await client.unary({ text: `u${i}` })).text;
        if (i % 3 === 1) {
          const got: number[] = [];
          for await (const m of client.serverStream({ count: 5, size: 10 })) got.push(m.index);
          return got.join(",");
        }
        const res = await client.clientStream(
          (async function* () {
            for (let k = 0; k < 3; k++) yield { payload: new Uint8Array(i) };
          })(),
        );
        return String(res.totalBytes);
      }),
    );
    results.forEach((r, i) => expect(r).toBe(i % 3 === 0 ? `u${i}` : i % 3 === 1 ? "0,1,2,3,4" : String(3 * i)));
    expect(log.opened).toBe(1);
    expect(new Set(log.toWorker.filter((m) => m.type === "start").map((m) => m.id)).size).toBe(100);
    expect(hub.counters.portCalls).toBe(100);
    // A call that starts when none runs opens a fresh port: the worker may have been
    // stopped in between, and only a message to the controller would wake it.
    for (let i = 0; i < 5; i++) await client.unary({ text: "again" });
    expect(log.opened).toBe(6);
  });

  it("a call right after the worker stopped goes to a fresh port at once: not lost, not run twice", async () => {
    // A watchdog far beyond the test's timeout: the call must not need it.
    const { client, log, hub, stopWorker } = setup({ deadAfterMs: 600_000 });
    expect((await client.unary({ text: "before" })).text).toBe("before");
    stopWorker();
    expect((await client.unary({ text: "after" })).text).toBe("after");
    expect(log.opened).toBe(2);
    expect(log.toWorker.filter((m) => m.type === "start")).toHaveLength(2);
    expect(hub.counters.portCalls).toBe(2);
  });

  it("a dead worker fails every in-flight call with unavailable; the next call opens a fresh port", async () => {
    const { client, log } = setup({ deadAfterMs: 200 });
    log.dead = true;
    const errs = await Promise.all(
      Array.from({ length: 3 }, () => client.unary({ text: "lost" }).catch((e: unknown) => ConnectError.from(e))),
    );
    for (const err of errs) {
      expect((err as ConnectError).code).toBe(Code.Unavailable);
      expect((err as ConnectError).rawMessage).toMatch(/service worker stopped answering/);
    }
    expect(log.opened).toBe(1);
    log.dead = false;
    expect((await client.unary({ text: "back" })).text).toBe("back");
    expect(log.opened).toBe(2);
  });

  it("a worker that posts idle after its linger makes the next call open a fresh port", async () => {
    const { client, log } = setup({ lingerMs: 20 });
    await client.unary({ text: "a" });
    await expect.poll(() => log.toPage.some((m) => m.type === "idle")).toBe(true);
    await client.unary({ text: "b" });
    expect(log.opened).toBe(2);
  });

  it("a 4 MiB unary request and response (one chunk, far over the window) round-trips", async () => {
    const { client, log } = setup();
    const payload = new Uint8Array(4 << 20).map((_, i) => i % 251);
    const res = await client.unary({ text: "big", payload });
    expect(res.payload).toEqual(payload);
    expect(log.toWorker.filter((m) => m.type === "data").length).toBeGreaterThan(0); // the rest went under credit
    expect(log.toPage.filter((m) => m.type === "data").length).toBeGreaterThan(0);
  });

  it("credit goes back in half-window batches only", async () => {
    const { client, log } = setup();
    let n = 0;
    for await (const _ of client.serverStream({ count: 40, size: 16 << 10 })) n++; // 640 KiB > window
    expect(n).toBe(40);
    const credits = log.toWorker.filter((m) => m.type === "credit");
    expect(credits.length).toBeGreaterThan(0);
    expect(credits.length).toBeLessThanOrEqual(5); // 640 KiB / 128 KiB
    for (const c of credits) expect(c.bytes as number).toBeGreaterThanOrEqual(128 << 10);
  });
});

describe("port protocol", () => {
  it("credit batcher: returns nothing below half the window, then everything consumed", () => {
    const sent: number[] = [];
    const b = new CreditBatcher((n) => sent.push(n), 100);
    b.consumed(60);
    expect(sent).toEqual([]);
    b.consumed(50);
    expect(sent).toEqual([110]);
    b.consumed(99);
    expect(sent).toEqual([110]);
  });

  it("accepts coalesced start/head messages and rejects a body without hasBody", () => {
    const buf = new ArrayBuffer(4);
    expect(
      parsePageMessage({ type: "start", id: 1, method: "POST", path: "/x", headers: [], hasBody: true, body: [buf], end: true }),
    ).toBeDefined();
    expect(
      parsePageMessage({ type: "start", id: 1, method: "POST", path: "/x", headers: [], hasBody: false, body: [buf] }),
    ).toBeUndefined();
    expect(
      parsePageMessage({ type: "start", id: 1, method: "POST", path: "/x", headers: [], hasBody: true, body: [new Uint8Array(4)] }),
    ).toBeUndefined();
    expect(
      parseWorkerMessage({ type: "head", id: 1, status: 200, headers: [], body: [buf], trailers: [["grpc-status", "0"]] }),
    ).toBeDefined();
    expect(parseWorkerMessage({ type: "head", id: 1, status: 200, headers: [], trailers: "x" })).toBeUndefined();
    expect(parseWorkerMessage({ type: "idle" })).toEqual({ type: "idle" });
  });

  it("rejects malformed messages", () => {
    expect(parsePageMessage({ type: "start", id: 1, method: "POST", path: "x", headers: [], hasBody: false })).toBeUndefined();
    expect(parsePageMessage({ type: "start", id: 1, method: "POST", path: "/x", headers: [["a", 1]], hasBody: false })).toBeUndefined();
    expect(parsePageMessage({ type: "data", id: 1, bytes: new Uint8Array(1) })).toBeUndefined();
    expect(parsePageMessage({ type: "credit", id: 1, bytes: -5 })).toBeUndefined();
    expect(parseWorkerMessage({ type: "head", id: 1, status: 200, headers: [["a", "b"]] })).toBeDefined();
    expect(parseWorkerMessage({ type: "nope", id: 1 })).toBeUndefined();
  });

  it("credit: a sender never has more than the window outstanding", async () => {
    const gate = new CreditGate(100);
    await gate.take(60);
    let second = false;
    const p = gate.take(60).then(() => (second = true));
    // The gate is promise-only: once this turn's microtasks ran, anything it would do is done.
    await nextTurn();
    expect(second).toBe(false);
    gate.grant(20);
    await p;
    expect(second).toBe(true);
    expect(gate.available).toBe(0);
    gate.fail(new Error("done"));
    await expect(gate.take(1)).rejects.toThrow("done");
  });
});
