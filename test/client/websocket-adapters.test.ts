/**
 * The tunnel client with Node's global (undici) WebSocket, and createUniversalClient's
 * mapping, against the in-test gateway double.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createTunnelClient, createUniversalClient } from "../../client/index.js";
import { readAll, startDouble, type DoubleStream } from "./gateway-double.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function echo(s: DoubleStream): void {
  void (async () => {
    s.respond(200, [
      ["x-path", s.path],
      ["x-method", s.method],
    ]);
    const body = await s.requestEnd();
    await s.write(body);
    s.trailers([
      ["grpc-status", "0"],
      ["x-t", "a"],
      ["x-t", "b"],
    ]);
  })();
}

describe("WebSocket implementations", () => {
  it("runs over Node's global WebSocket (the default constructor)", async () => {
    expect(typeof globalThis.WebSocket).toBe("function");
    const gw = await startDouble({ onStream: echo });
    cleanups.push(() => gw.close());
    const client = createTunnelClient({ url: gw.url });
    cleanups.push(() => client.close());
    const res = await client.request({ method: "POST", path: "/g", headers: [], body: new Uint8Array(100_000).fill(9) });
    const body = await readAll(res.body);
    expect(body.length).toBe(100_000);
    expect(body.every((b) => b === 9)).toBe(true);
    expect(gw.connections[0]!.protocol).toBe("swtunnel.v1");
  });
});

describe("createUniversalClient", () => {
  it("maps url to path+query, Headers both ways, and fills trailer when the body ends", async () => {
    const gw = await startDouble({ onStream: echo });
    cleanups.push(() => gw.close());
    const tunnel = createTunnelClient({ url: gw.url, WebSocket });
    cleanups.push(() => tunnel.close());
    const http = createUniversalClient(tunnel);
    async function* body() {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    }
    const res = await http({
      url: "https://somewhere.example:8443/pkg.Svc/Method?a=1&b=2",
      method: "POST",
      header: new Headers({ "Content-Type": "application/grpc", "X-Multi": "v" }),
      body: body(),
    });
    expect(res.status).toBe(200);
    expect(res.header.get("x-path")).toBe("/pkg.Svc/Method?a=1&b=2");
    expect(res.header.get("x-method")).toBe("POST");
    expect([...res.trailer]).toEqual([]);
    expect([...(await readAll(res.body))]).toEqual([1, 2, 3]);
    expect(res.trailer.get("grpc-status")).toBe("0");
    expect(res.trailer.get("x-t")).toBe("a, b");
    const stream = gw.connections[0]!.streams.get(1)!;
    expect(stream.header("content-type")).toBe("application/grpc");
    expect(stream.header("x-multi")).toBe("v");
  });
});
