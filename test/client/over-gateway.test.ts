/**
 * Connect-ES's own transports (protocol-grpc, protocol-connect, protocol-grpc-web
 * `createTransport`) over createUniversalClient -> tunnel client -> the real gateway
 * (server/) -> a real @grpc/grpc-js backend (demo/backend). All real parts, on 127.0.0.1.
 */
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { createTransportOverTunnel, createTunnelClient, type TunnelClient } from "../../client/index.js";
import { describeCallKinds } from "../tunnel/call-kinds.js";

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

describeCallKinds({ name: "the gateway -> grpc-js", tunnel: () => tunnel, unaryBytes: { request: 70_000, response: 100_000 } });

describe("one socket", () => {
  let client: Client<typeof TestService>;
  beforeAll(() => {
    client = createClient(TestService, createTransportOverTunnel({ client: tunnel }));
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
