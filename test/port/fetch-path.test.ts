// The fetch fast path's port leg: page-sdk's portCall with a fast-path `start` (url) and
// the worker's port server answering it with its real FetchHandler, joined by a real
// MessageChannel. The tunnel client is a stand-in (the unit under test is the port leg).
import { MessageChannel } from "node:worker_threads";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalClientResponse } from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { PassToNetwork, portCall } from "../../page-sdk/port-client.js";
import { PortMux } from "../../page-sdk/port-mux.js";
import { parsePageMessage } from "../../port/messages.js";
import type { PortLike } from "../../port/port-like.js";
import { FetchHandler, type FallbackMode } from "../../sw/fetch-handler.js";
import { TunnelPool } from "../../sw/pool.js";
import { servePort } from "../../sw/port-server.js";
import { resolveRoutes } from "../../sw/routes.js";
import { StatusHub } from "../../sw/status.js";
import type { TunnelClientLike } from "../../sw/types.js";
import { fakeClient, response } from "../sw/fake-client.js";

const W = "https://app.example/sw.js";

function setup(client: TunnelClientLike, fallback: FallbackMode = "error", network?: (r: Request) => Promise<Response>) {
  const hub = new StatusHub();
  const pool = new TunnelPool(() => client, hub);
  const fetchHandler = new FetchHandler({
    routes: resolveRoutes([{ match: "https://api.example/", contentTypes: "connect" }], W),
    fallback,
    pageOrigin: "https://app.example",
    pool,
    hub,
    fetch: network ?? (() => Promise.reject(new Error("no network in this test"))),
  });
  const ports: Array<{ close(): void }> = [];
  const mux = new PortMux({
    openPort: async () => {
      const { port1, port2 } = new MessageChannel();
      ports.push(port1, port2);
      void servePort(port2 as unknown as PortLike, {
        pool,
        hub,
        workerUrl: W,
        defaultGateway: "wss://app.example/tunnel",
        lingerMs: 0,
        fetchHandler,
      });
      return port1 as unknown as PortLike;
    },
  });
  /** A fetch as the page's tunnelFetch sends it. */
  const call = (url: string, init: { method?: string; headers?: Record<string, string>; body?: number[] } = {}, signal?: AbortSignal) =>
    portCall(
      mux,
      {
        url,
        method: init.method ?? "POST",
        header: new Headers(init.headers ?? { "content-type": "application/proto" }),
        body: init.body
          ? (async function* () {
              yield new Uint8Array(init.body!);
            })()
          : undefined,
        signal,
      },
      { url, credentials: "include", redirect: "error" },
    );
  const close = () => {
    for (const p of ports) p.close();
  };
  return { call, hub, close };
}

async function bytes(res: UniversalClientResponse): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of res.body) out.push(...chunk);
  return out;
}

describe("fetch fast path over the port", () => {
  it("a carried call gets the fetch handler's Response: status, headers with CORS, body, no trailers", async () => {
    const client = fakeClient(() =>
      response(200, [["content-type", "application/proto"]], [new Uint8Array([1]), new Uint8Array([2, 3])], [["grpc-status", "0"]]),
    );
    const { call, hub, close } = setup(client);
    const res = await call("https://api.example/a.B/C?q=1", { body: [9, 8], headers: { "content-type": "application/proto", "x-a": "1" } });
    expect(res.status).toBe(200);
    expect(res.header.get("content-type")).toBe("application/proto");
    expect(res.header.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.header.get("access-control-allow-credentials")).toBe("true");
    expect(await bytes(res)).toEqual([1, 2, 3]);
    expect([...res.trailer]).toEqual([]);
    const sent = client.calls[0]!;
    expect(sent.req.path).toBe("/a.B/C?q=1");
    expect(sent.req.headers).toEqual([
      ["content-type", "application/proto"],
      ["x-a", "1"],
    ]);
    expect(sent.body).toEqual([new Uint8Array([9, 8])]);
    expect(hub.counters).toMatchObject({ carried: 1, portCalls: 1, active: 0 });
    close();
  });

  it("a request no route carries is answered `pass`, and nothing reaches the tunnel", async () => {
    const client = fakeClient(() => response(200, [], []));
    const { call, hub, close } = setup(client);
    await expect(call("https://other.example/x")).rejects.toBeInstanceOf(PassToNetwork);
    // Content types "connect": a text body to a routed URL passes too.
    await expect(call("https://api.example/x", { headers: { "content-type": "text/plain" }, body: [1] })).rejects.toBeInstanceOf(
      PassToNetwork,
    );
    expect(client.calls).toEqual([]);
    expect(hub.counters).toMatchObject({ carried: 0, portCalls: 2, active: 0 });
    close();
  });

  it("gateway unreachable + fallback 'network': the worker's network fetch answers, the body intact", async () => {
    const client = fakeClient(() => {
      throw new ConnectError("down", Code.Unavailable);
    }, "reconnecting");
    const seen: number[][] = [];
    const { call, hub, close } = setup(client, "network", async (r) => {
      expect(r.redirect).toBe("error");
      seen.push([...new Uint8Array(await r.arrayBuffer())]);
      return new Response("direct", { status: 201, headers: { "x-net": "1" } });
    });
    const res = await call("https://api.example/x/Y", { body: [4, 5] });
    expect(res.status).toBe(201);
    expect(res.header.get("x-net")).toBe("1");
    expect(new TextDecoder().decode(new Uint8Array(await bytes(res)))).toBe("direct");
    expect(seen).toEqual([[4, 5]]);
    expect(hub.counters.fallbacks).toBe(1);
    close();
  });

  it("an abort mid-body cancels the tunnel call", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let n = 0;
    const client = fakeClient(() =>
      response(200, [["content-type", "application/connect+proto"]], [new Uint8Array([0, 0, 0, 0, 0]), new Uint8Array([1])], [], {
        gate: () => (n++ === 0 ? Promise.resolve() : gate),
      }),
    );
    const { call, close } = setup(client);
    const abort = new AbortController();
    const res = await call(
      "https://api.example/s/S",
      { headers: { "content-type": "application/connect+proto" }, body: [1] },
      abort.signal,
    );
    const it = res.body[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(new Uint8Array([0, 0, 0, 0, 0]));
    abort.abort();
    await expect(it.next()).rejects.toBeDefined();
    await expect.poll(() => client.calls[0]!.cancelled).toBe(true);
    release();
    close();
  });
});

describe("fast-path start validation", () => {
  const start = { type: "start", id: 1, method: "GET", path: "/", headers: [], hasBody: false };
  it("accepts an http(s) url and a credentials mode", () => {
    expect(parsePageMessage({ ...start, url: "https://a.example/x", credentials: "include" })).toBeDefined();
  });
  it("refuses other urls and credentials", () => {
    expect(parsePageMessage({ ...start, url: "file:///etc/passwd" })).toBeUndefined();
    expect(parsePageMessage({ ...start, url: 5 })).toBeUndefined();
    expect(parsePageMessage({ ...start, url: "https://a.example/", credentials: "all" })).toBeUndefined();
    expect(parsePageMessage({ ...start, url: "https://a.example/", redirect: "never" })).toBeUndefined();
  });
});
