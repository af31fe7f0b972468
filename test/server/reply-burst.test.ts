/**
 * The gateway writes each event-loop turn's frames in one go (the socket is corked for the
 * turn). Replies queued that way are not "unwritten control frames" of a client that does
 * not read: a reading client's burst of PINGs larger than maxQueuedControlFrames gets all
 * its PONGs, and its calls keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import type { Frame } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, grpcCall, header } from "./helpers.js";

let backend: Backend;
let gw: Gateway;
beforeAll(async () => {
  backend = await startGrpcBackend();
  gw = await createGateway({
    upstream: backend.url,
    port: 0,
    logger: pino({ level: "silent" }),
    pingIntervalMs: 0,
    maxQueuedControlFrames: 50,
  });
});
afterAll(async () => {
  await gw.close(100);
  await backend.close();
});

describe("a burst of PINGs from a client that reads", () => {
  it("gets every PONG and no GOAWAY, although the burst is 20 times maxQueuedControlFrames", async () => {
    const c = await RawClient.connect(gw.tunnelUrl);
    try {
      const burst = 1000;
      for (let i = 0; i < burst; i++) {
        const data = new Uint8Array(8);
        new DataView(data.buffer).setUint32(0, i);
        c.send({ kind: "ping", data } satisfies Frame);
      }
      await expect.poll(() => c.frames.filter((f) => f.kind === "pong").length, { timeout: 10_000 }).toBe(burst);
      expect(c.frames.some((f) => f.kind === "goaway")).toBe(false);
      const result = await grpcCall(c, 1, "/swtunnel.test.v1.TestService/Unary", new Uint8Array([10, 2, 104, 105]));
      expect(header(result.trailers, "grpc-status")).toBe("0");
    } finally {
      c.close();
    }
  });
});
