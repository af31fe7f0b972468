import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { FetchHandler, type FallbackMode } from "../../sw/fetch-handler.js";
import { TunnelPool } from "../../sw/pool.js";
import { resolveRoutes } from "../../sw/routes.js";
import { StatusHub, type StatusMessage } from "../../sw/status.js";
import type { TunnelClientLike } from "../../sw/types.js";
import { fakeClient, response } from "./fake-client.js";

const W = "https://app.example/sw.js";

function setup(client: TunnelClientLike, fallback: FallbackMode = "error", network?: (r: Request) => Promise<Response>) {
  const posted: StatusMessage[] = [];
  const hub = new StatusHub((m) => posted.push(m));
  const gateways: string[] = [];
  const pool = new TunnelPool(({ url }) => (gateways.push(url), client), hub);
  const fetchHandler = new FetchHandler({
    routes: resolveRoutes([{ match: "https://api.example/" }, { match: "/local/", gateway: "wss://gw2.example/t" }], W),
    fallback,
    pageOrigin: "https://app.example",
    pool,
    hub,
    fetch: network ?? (() => Promise.reject(new Error("no network in this test"))),
  });
  return { fetchHandler, hub, posted, gateways };
}

const post = (url: string, body: Uint8Array<ArrayBuffer>, ct = "application/proto", extra: Record<string, string> = {}) =>
  new Request(url, { method: "POST", body, headers: { "content-type": ct, ...extra } });

describe("FetchHandler", () => {
  it("carries method, path+query, filtered headers and body; streams the response; adds CORS for another origin", async () => {
    const client = fakeClient(() =>
      response(
        200,
        [
          ["content-type", "application/proto"],
          ["x-echo-a", "1"],
        ],
        [new Uint8Array([1]), new Uint8Array([2])],
        [["x-t", "1"]],
      ),
    );
    const { fetchHandler, hub, gateways } = setup(client);
    const res = await fetchHandler.handle(
      post("https://api.example/a.B/C?q=1", new Uint8Array([9, 9]), "application/proto", { "x-echo-a": "1", "sec-fetch-mode": "cors" }),
    )!;
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([1, 2]));
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")).toBe("content-type, x-echo-a");
    const call = client.calls[0]!;
    expect(call.req.method).toBe("POST");
    expect(call.req.path).toBe("/a.B/C?q=1");
    expect(call.req.headers).toEqual([
      ["content-type", "application/proto"],
      ["x-echo-a", "1"],
    ]);
    expect(call.body).toEqual([new Uint8Array([9, 9])]);
    expect(gateways).toEqual(["wss://app.example/tunnel"]);
    expect(hub.counters).toMatchObject({ carried: 1, active: 0 });
  });

  it("leaves unmatched requests alone and answers preflights locally", async () => {
    const { fetchHandler } = setup(fakeClient(() => response(200, [], [])));
    expect(fetchHandler.handle(new Request("https://elsewhere.example/x"))).toBeUndefined();
    const pre = await fetchHandler.handle(
      new Request("https://api.example/a.B/C", { method: "OPTIONS", headers: { "access-control-request-method": "POST" } }),
    )!;
    expect(pre.status).toBe(204);
  });

  it("one client per gateway, shared by calls", async () => {
    const client = fakeClient(() => response(200, [], []));
    const { fetchHandler, gateways } = setup(client);
    await fetchHandler.handle(post("https://api.example/x/Y", new Uint8Array([1])));
    await fetchHandler.handle(post("https://api.example/x/Y", new Uint8Array([1])));
    await fetchHandler.handle(post("https://app.example/local/x/Y", new Uint8Array([1])));
    expect(gateways).toEqual(["wss://app.example/tunnel", "wss://gw2.example/t"]);
    expect(client.calls).toHaveLength(3);
  });

  it("a page cancelling the response body aborts the tunnel call", async () => {
    let returned = false;
    const client = fakeClient(() =>
      response(
        200,
        [["content-type", "application/connect+proto"]],
        [new Uint8Array([0, 0, 0, 0, 0]), new Uint8Array([0, 0, 0, 0, 0])],
        [],
        {
          gate: () => new Promise((r) => setTimeout(r, 5)),
          onReturn: () => (returned = true),
        },
      ),
    );
    const { fetchHandler, hub } = setup(client);
    const res = await fetchHandler.handle(post("https://api.example/x/Y", new Uint8Array([0, 0, 0, 0, 0]), "application/connect+proto"))!;
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await vi.waitFor(() => expect(client.calls[0]!.cancelled).toBe(true));
    await vi.waitFor(() => expect(returned).toBe(true));
    expect(hub.counters.active).toBe(0);
  });

  it("reports the call done (for event.waitUntil) only once its response body ended", async () => {
    const gates: Array<() => void> = [];
    const client = fakeClient(() =>
      response(
        200,
        [["content-type", "application/connect+proto"]],
        [new Uint8Array([0, 0, 0, 0, 0]), new Uint8Array([2, 0, 0, 0, 0])],
        [],
        {
          gate: () => new Promise<void>((r) => gates.push(r)),
        },
      ),
    );
    const { fetchHandler } = setup(client);
    let done = 0;
    const res = await fetchHandler.handle(
      post("https://api.example/x/Y", new Uint8Array(5), "application/connect+proto"),
      undefined,
      () => done++,
    )!;
    expect(done).toBe(0); // the head is there, the body is not
    const reader = res.body!.getReader();
    for (let i = 0; i < 2; i++) {
      const read = reader.read();
      await vi.waitFor(() => expect(gates).toHaveLength(i + 1));
      gates[i]!();
      expect((await read).done).toBe(false);
      expect(done).toBe(0);
    }
    expect((await reader.read()).done).toBe(true);
    expect(done).toBe(1);
  });

  it("gateway unreachable + fallback 'error': Connect unary gets 503 unavailable naming the gateway", async () => {
    const client = fakeClient(() => {
      throw new ConnectError("connect ECONNREFUSED", Code.Unavailable);
    }, "reconnecting");
    const { fetchHandler, hub } = setup(client, "error");
    const res = await fetchHandler.handle(post("https://api.example/x/Y", new Uint8Array([1]), "application/json"))!;
    expect(res.status).toBe(503);
    const json = (await res.json()) as { code: string; message: string };
    expect(json.code).toBe("unavailable");
    expect(json.message).toMatch(/gateway wss:\/\/app\.example\/tunnel could not be reached/);
    expect(hub.counters.fallbacks).toBe(1);
    expect(hub.snapshot().status).toBe("fallback");
  });

  it("gateway unreachable + fallback 'network': the original request goes to the network, body intact", async () => {
    const client = fakeClient(() => {
      throw new ConnectError("down", Code.Unavailable);
    }, "reconnecting");
    const seen: Uint8Array[] = [];
    const { fetchHandler } = setup(client, "network", async (r) => {
      seen.push(new Uint8Array(await r.arrayBuffer()));
      return new Response("direct", { status: 200 });
    });
    const res = await fetchHandler.handle(post("https://api.example/x/Y", new Uint8Array([4, 5])))!;
    expect(await res.text()).toBe("direct");
    expect(seen).toEqual([new Uint8Array([4, 5])]);
  });

  it("a stream reset while connected is an error response, never a replay", async () => {
    const client = fakeClient(() => {
      throw new ConnectError("forbidden path", Code.PermissionDenied);
    });
    const { fetchHandler, hub } = setup(client, "network");
    const res = await fetchHandler.handle(post("https://api.example/x/Y", new Uint8Array([1]), "application/grpc-web+proto"))!;
    expect(res.headers.get("grpc-status")).toBe(String(Code.PermissionDenied));
    expect(hub.counters.failed).toBe(1);
  });
});
