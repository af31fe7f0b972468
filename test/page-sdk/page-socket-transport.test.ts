/**
 * createPageSocketTransport outside a browser: its options reach the tunnel client and the
 * Connect transport (real gateway, real grpc-js backend, `ws` as the WebSocket), and bad
 * options fail at once with a precise error. The browser side is e2e/page-socket.spec.ts.
 */
import { readFileSync } from "node:fs";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createPageSocketTransport, type TunnelStatus } from "../../page-sdk/index.js";
import { createGateway, type Gateway } from "../../server/index.js";

let backend: Backend;
let gateway: Gateway;

beforeAll(async () => {
  backend = await startGrpcBackend();
  const descriptors = readFileSync(new URL("../../demo/gen/descriptors.binpb", import.meta.url));
  gateway = await createGateway({ upstream: backend.url, port: 0, logLevel: "silent", descriptors });
});

afterAll(async () => {
  await gateway?.close(0);
  await backend?.close();
});

describe("createPageSocketTransport", () => {
  it("carries calls with its interceptors and protocol, reports status, and close() ends it", async () => {
    const statuses: TunnelStatus[] = [];
    const seen: string[] = [];
    const stamp: Interceptor = (next) => (req) => {
      seen.push(req.header.get("content-type") ?? "");
      req.header.set("x-echo-stamp", "page");
      return next(req);
    };
    const transport = createPageSocketTransport({
      baseUrl: "/",
      gateway: gateway.tunnelUrl,
      protocol: "connect",
      useBinaryFormat: false,
      interceptors: [stamp],
      WebSocket,
      onStatus: (s) => statuses.push(s),
    });
    const client = createClient(TestService, transport);
    let header: Headers | undefined;
    const res = await client.unary({ text: "hi" }, { onHeader: (h) => (header = h) });
    expect(res.text).toBe("hi");
    expect(seen).toEqual(["application/json"]);
    expect(header?.get("x-echo-stamp")).toBe("page");
    expect(transport.tunnel.status).toBe("connected");
    expect(transport.tunnel.stats().callsStarted).toBe(1);

    transport.tunnel.close();
    expect(statuses).toEqual(["connected", "closed"]);
    const err = await client.unary({ text: "late" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Canceled);
  });

  it("rejects a gateway URL of another scheme, and a relative one with no page to resolve it against", () => {
    expect(() => createPageSocketTransport({ baseUrl: "/", gateway: "ftp://gw.example/tunnel", WebSocket })).toThrow(
      'swtunnel: gateway "ftp://gw.example/tunnel" is not a ws:, wss:, http: or https: URL',
    );
    expect(() => createPageSocketTransport({ baseUrl: "/", WebSocket })).toThrow(
      'swtunnel: gateway "/tunnel" is not a URL (relative URLs need a base to resolve against)',
    );
  });
});
