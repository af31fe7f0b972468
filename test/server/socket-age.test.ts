/**
 * maxSocketAgeMs: old sockets get GOAWAY NO_ERROR; their streams finish, new streams go to
 * a new socket, and the Node tunnel client moves under load without failing a call.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { createTransportOverTunnel, createTunnelClient } from "../../client/index.js";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { ErrorCode } from "../../protocol/index.js";
import { createGateway } from "../../server/index.js";
import { RawClient, envelope, grpcHeaders, header, startH2Backend, unenvelope, type H2Backend } from "./helpers.js";

const silent = pino({ level: "silent" });

describe("max socket age on the wire", () => {
  let backend: H2Backend;
  beforeAll(async () => {
    backend = await startH2Backend();
  });
  afterAll(async () => {
    await backend.close();
  });

  it("GOAWAY NO_ERROR with the last accepted id; the open stream finishes; a new one is REFUSED_STREAM", async () => {
    const gw = await createGateway({ upstream: backend.url, port: 0, logger: silent, maxSocketAgeMs: 100 });
    try {
      const c = await RawClient.connect(gw.tunnelUrl);
      c.send(grpcHeaders(1, "/test.Raw/Echo")); // request half still open when the GOAWAY comes
      const goaway = await c.next((f) => f.kind === "goaway");
      expect(goaway).toMatchObject({ kind: "goaway", lastStreamId: 1, code: ErrorCode.NO_ERROR });
      expect(goaway.kind === "goaway" && goaway.message).toMatch(/maximum socket age/);
      c.send(grpcHeaders(3, "/test.Raw/Echo", true));
      c.send({ kind: "data", streamId: 1, endStream: true, data: envelope(new Uint8Array([9])) });
      const refused = await c.collect(3);
      expect(refused.rst?.code).toBe(ErrorCode.REFUSED_STREAM);
      const done = await c.collect(1);
      expect(header(done.trailers, "grpc-status")).toBe("0");
      expect(unenvelope(done.body)).toEqual([new Uint8Array([9])]);
      expect(await c.closed).toBe(1001); // closed once the last stream ended
    } finally {
      await gw.close(100);
    }
  });

  it("is off by default and validated", async () => {
    await expect(createGateway({ upstream: backend.url, port: 0, logger: silent, maxSocketAgeMs: -1 })).rejects.toThrow(/maxSocketAgeMs/);
  });
});

describe("the Node tunnel client under load", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startGrpcBackend();
  });
  afterAll(async () => {
    await backend.close();
  });

  it("moves to new sockets as old ones age out, with 0 failed calls", async () => {
    const gw = await createGateway({ upstream: backend.url, port: 0, logger: silent, maxSocketAgeMs: 150 });
    const tunnel = createTunnelClient({ url: gw.tunnelUrl, WebSocket });
    const client = createClient(TestService, createTransportOverTunnel({ client: tunnel, protocol: "grpc" }));
    let stop = false;
    let ok = 0;
    const failed: ConnectError[] = [];
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          if (i % 4 === 3) {
            let n = 0;
            for await (const _ of client.serverStream({ count: 3, intervalMs: 20 })) n++;
            expect(n).toBe(3);
          } else {
            const res = await client.unary({ text: `w${w} ${i}` });
            expect(res.text).toBe(`w${w} ${i}`);
          }
          ok++;
        } catch (e) {
          failed.push(ConnectError.from(e));
        }
      }
    };
    try {
      const workers = Array.from({ length: 16 }, (_, w) => worker(w));
      // Run until the gateway has rotated the client's socket several times.
      await vi.waitFor(
        async () => {
          const sockets = await gw.metrics.getSingleMetric("swtunnel_sockets_total")!.get();
          expect(sockets.values[0]?.value).toBeGreaterThanOrEqual(5);
        },
        { timeout: 60_000, interval: 50 },
      );
      stop = true;
      await Promise.all(workers);
      expect(failed.map((e) => `${Code[e.code]}: ${e.rawMessage}`)).toEqual([]);
      expect(ok).toBeGreaterThan(0);
    } finally {
      stop = true;
      tunnel.close();
      await gw.close(100);
    }
  });
});
