/**
 * Connect-ES's own transports (protocol-grpc, protocol-connect, protocol-grpc-web
 * `createTransport`) over createUniversalClient -> tunnel client -> the real gateway
 * (server/) -> a real @grpc/grpc-js backend (demo/backend). All real parts, on 127.0.0.1.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import { BidiRequestSchema, ClientStreamRequestSchema, TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { createTransportOverTunnel, createTunnelClient, type TunnelClient } from "../../client/index.js";

let backend: Backend;
let gateway: Gateway;
let tunnel: TunnelClient;

beforeAll(async () => {
  backend = await startGrpcBackend();
  gateway = await createGateway({ upstream: backend.url, port: 0, logLevel: "silent" });
  tunnel = createTunnelClient({ url: gateway.tunnelUrl, WebSocket });
});

afterAll(async () => {
  tunnel?.close();
  await gateway?.close(0);
  await backend?.close();
});

const transports: Array<[string, () => Transport]> = [
  ["grpc", () => createTransportOverTunnel({ client: tunnel, protocol: "grpc" })],
  ["connect", () => createTransportOverTunnel({ client: tunnel, protocol: "connect" })],
  ["grpc-web", () => createTransportOverTunnel({ client: tunnel, protocol: "grpc-web" })],
];

describe.each(transports)("Connect-ES %s transport over the tunnel", (name, make) => {
  let client: Client<typeof TestService>;
  beforeAll(() => {
    client = createClient(TestService, make());
  });

  it("unary with metadata echo in headers and trailers", async () => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const res = await client.unary(
      { text: `hello ${name}`, responseSize: 100_000, payload: new Uint8Array(70_000).fill(7) },
      { headers: { "x-echo-a": "1" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
    );
    expect(res.text).toBe(`hello ${name}`);
    expect(res.payload.length).toBe(100_000);
    expect(res.payload[257]).toBe(257 & 0xff);
    expect(res.requestBytes).toBe(70_000);
    expect(header?.get("x-echo-a")).toBe("1");
    expect(trailer?.get("x-echo-a-t")).toBe("1");
  });

  it("server streaming", async () => {
    const indexes: number[] = [];
    for await (const m of client.serverStream({ count: 5, size: 10 })) indexes.push(m.index);
    expect(indexes).toEqual([0, 1, 2, 3, 4]);
  });

  it("errors keep their code and message", async () => {
    const err = await client.fail({ code: Code.NotFound, message: "nothing here", detail: "d" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.NotFound);
    expect(err?.rawMessage).toBe("nothing here");
  });

  it("the deadline reaches the backend", async () => {
    const res = await client.unary({ text: "t" }, { timeoutMs: 5_000 });
    expect(Number(res.timeoutMs)).toBeGreaterThan(0);
    expect(Number(res.timeoutMs)).toBeLessThanOrEqual(5_000);
  });
});

describe("streams only gRPC over HTTP/2 can carry", () => {
  let client: Client<typeof TestService>;
  beforeAll(() => {
    client = createClient(TestService, createTransportOverTunnel({ client: tunnel }));
  });

  it("client streaming", async () => {
    async function* input() {
      for (let i = 0; i < 4; i++) yield create(ClientStreamRequestSchema, { text: `m${i}`, payload: new Uint8Array(1000) });
    }
    const res = await client.clientStream(input());
    expect(res.count).toBe(4);
    expect(res.joined).toBe("m0,m1,m2,m3");
    expect(Number(res.totalBytes)).toBeGreaterThanOrEqual(4000);
  });

  it("bidi streaming: each answer arrives before the next message is sent", async () => {
    const answered: Array<() => void> = [];
    async function* input() {
      for (let i = 0; i < 5; i++) {
        yield create(BidiRequestSchema, { text: `b${i}` });
        // Wait for the echo of this message before sending the next one.
        await new Promise<void>((resolve) => answered.push(resolve));
      }
    }
    const texts: string[] = [];
    for await (const m of client.bidi(input())) {
      texts.push(m.text);
      answered.shift()?.();
    }
    expect(texts).toEqual(["b0", "b1", "b2", "b3", "b4"]);
  });

  it("aborting a call cancels it at the backend", async () => {
    const id = `abort-${Date.now()}`;
    const ac = new AbortController();
    const p = client.unary({ id, text: "x", delayMs: 10_000 }, { signal: ac.signal });
    // Wait until the backend saw the call.
    await expect.poll(async () => (await client.inspect({ id })).seen, { timeout: 10_000, interval: 10 }).toBe(true);
    ac.abort();
    const err = await p.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.Canceled);
    await expect.poll(async () => (await client.inspect({ id })).cancelled, { timeout: 10_000, interval: 10 }).toBe(true);
  });

  it("200 concurrent calls share one socket", async () => {
    const before = tunnel.stats();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => client.unary({ text: `c${i}` })));
    expect(results.map((r) => r.text)).toEqual(Array.from({ length: 200 }, (_, i) => `c${i}`));
    expect(tunnel.stats()).toMatchObject({ sockets: 1, reconnects: before.reconnects, streamsOpen: 0, streamsQueued: 0 });
  });
});

describe("gateway restart", () => {
  it("a stream in flight fails with unavailable when the gateway goes, and the next call reconnects", async () => {
    const own = await startGrpcBackend();
    let gw = await createGateway({ upstream: own.url, port: 0, logLevel: "silent" });
    const port = gw.address.port;
    const t = createTunnelClient({ url: gw.tunnelUrl, WebSocket, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    try {
      const client = createClient(TestService, createTransportOverTunnel({ client: t }));
      const stream = client.serverStream({ count: 1000, size: 10, intervalMs: 20 });
      const it = stream[Symbol.asyncIterator]();
      expect((await it.next()).done).toBe(false);
      const pending = it.next().then(async () => {
        for (;;) if ((await it.next()).done) return undefined;
      });
      await gw.close(0);
      const err = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      // A real ConnectError (createUniversalClient converts the tunnel's TunnelError), not only a look-alike.
      expect(Object.getPrototypeOf(err)).toBe(ConnectError.prototype);
      expect((err as ConnectError).code).toBe(Code.Unavailable);
      gw = await createGateway({ upstream: own.url, port, logLevel: "silent" });
      // Calls fail with unavailable until the client reaches the new gateway.
      const codes = new Set<Code>();
      const text = await vi.waitFor(
        () =>
          client.unary({ text: "back" }).then(
            (r) => r.text,
            (e: unknown) => {
              codes.add(ConnectError.from(e).code);
              throw e;
            },
          ),
        { timeout: 5_000, interval: 20 },
      );
      expect([...codes].filter((c) => c !== Code.Unavailable)).toEqual([]);
      expect(text).toBe("back");
      expect(t.stats().reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      t.close();
      await gw.close(0);
      await own.close();
    }
  });
});
