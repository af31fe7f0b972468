// page-sdk's transport and the worker's port server, joined by a real MessageChannel.
// The tunnel client is a stand-in that hands each call to an in-memory Connect router
// (the unit under test is the MessagePort protocol, not the tunnel).
import { MessageChannel } from "node:worker_threads";
import { Code, ConnectError, createClient, createConnectRouter } from "@connectrpc/connect";
import { createUniversalHandlerClient } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createTunnelTransport } from "../../page-sdk/transport.js";
import { TunnelPool } from "../../sw/worker/pool.js";
import { CreditGate, parsePageMessage, parseWorkerMessage } from "../../sw/worker/port-protocol.js";
import { servePort, type PortLike } from "../../sw/worker/port-server.js";
import { StatusHub } from "../../sw/worker/status.js";
import type { TunnelClientLike } from "../../sw/worker/types.js";

const cancelled = new Set<string>();

function routerClient(): TunnelClientLike {
  const router = createConnectRouter();
  router.service(TestService, {
    unary: (req, ctx) => ({ text: req.text, timeoutMs: BigInt(ctx.timeoutMs() ?? -1) }),
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
        url: "http://backend" + req.path,
        method: req.method,
        header: new Headers(req.headers as [string, string][]),
        body: req.body instanceof Uint8Array ? (async function* () { yield req.body as Uint8Array; })() : (req.body ?? undefined),
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

function setup() {
  const hub = new StatusHub();
  const pool = new TunnelPool(() => routerClient(), hub);
  const openPort = async () => {
    const { port1, port2 } = new MessageChannel();
    void servePort(port2 as unknown as PortLike, { pool, hub, workerUrl: "http://app.test/sw.js", defaultGateway: "ws://app.test/tunnel" });
    return port1 as unknown as PortLike;
  };
  const client = createClient(TestService, createTunnelTransport({ baseUrl: "http://app.test", openPort }));
  return { client, hub };
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
    const err = await createClient(TestService, transport).unary({ text: "x" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect((err as ConnectError).rawMessage).toMatch(/service worker stopped answering/);
  });
});

describe("port protocol", () => {
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
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBe(false);
    gate.grant(20);
    await new Promise((r) => setTimeout(r, 10));
    expect(second).toBe(true);
    await p;
    expect(gate.available).toBe(0);
    gate.fail(new Error("done"));
    await expect(gate.take(1)).rejects.toThrow("done");
  });
});
