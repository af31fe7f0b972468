/**
 * /metrics labels come from closed sets: client reset codes and backend statuses map to
 * names or "unknown", methods to the descriptors' methods (or allowed services), else "other".
 */
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../server/index.js";
import { GatewayMetrics, statusLabel } from "../../server/metrics.js";
import { RawClient, grpcHeaders, startH2Backend, until, type H2Backend } from "./helpers.js";

const descriptors = readFileSync(new URL("../../demo/gen/descriptors.binpb", import.meta.url));
const UNARY = "/swtunnel.test.v1.TestService/Unary";

describe("label functions", () => {
  it("statusLabel keeps known codes and statuses, folds the rest", () => {
    for (const ok of ["CANCEL", "client_CANCEL", "MESSAGE_TOO_LARGE", "0", "16", "200", "503", "socket_lost"]) {
      expect(statusLabel(ok)).toBe(ok);
    }
    expect(statusLabel("client_UNKNOWN(0xdeadbeef)")).toBe("client_unknown");
    for (const bad of ["17", "999", "abc", "UNKNOWN(0x99)", "", "0x1"]) expect(statusLabel(bad)).toBe("unknown");
  });

  it("methodLabel: descriptors' methods, else allowed services (capped), else other", () => {
    const withDescriptors = new GatewayMetrics({ methods: new Set([UNARY]) });
    expect(withDescriptors.methodLabel(`${UNARY}?x=1`)).toBe(UNARY);
    expect(withDescriptors.methodLabel("/swtunnel.test.v1.TestService/Junk")).toBe("other");
    const withServices = new GatewayMetrics({ services: ["a.B"] });
    expect(withServices.methodLabel("/a.B/C")).toBe("/a.B/C");
    expect(withServices.methodLabel("/x.Y/C")).toBe("other");
    for (let i = 0; i < 1500; i++) withServices.methodLabel(`/a.B/M${i}`);
    expect(withServices.methodLabel("/a.B/M1200")).toBe("other");
    expect(withServices.methodLabel("/a.B/C")).toBe("/a.B/C"); // seen before the cap: kept
    expect(new GatewayMetrics().methodLabel("/a.B/C")).toBe("other");
  });
});

describe("labels under hostile input", () => {
  let backend: H2Backend;
  let gateway: Gateway;
  beforeAll(async () => {
    backend = await startH2Backend();
    gateway = await createGateway({ upstream: backend.url, port: 0, logger: pino({ level: "silent" }), descriptors });
  });
  afterAll(async () => {
    await gateway.close(100);
    await backend.close();
  });

  it("300 random reset codes and 300 junk paths add no label values", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    let id = 1;
    for (let i = 0; i < 300; i++, id += 2) {
      c.send(grpcHeaders(id, "/test.Raw/Hang"));
      c.send({ kind: "rst", streamId: id, code: 0x1000 + i * 7919, message: "random" });
    }
    for (let i = 0; i < 300; i++, id += 2) {
      c.send(grpcHeaders(id, `/junk.S${i}/M${i}`, true));
      expect((await c.collect(id)).rst).toBeUndefined();
    }
    c.send(grpcHeaders(id, UNARY, true)); // the backend answers grpc-status 12 (it is not a TestService)
    expect((await c.collect(id)).rst).toBeUndefined();
    const histogram = () => gateway.metrics.getSingleMetric("swtunnel_call_duration_seconds")!.get();
    await until(() => gateway.stats().streamsActive === 0, "every stream to end");
    const { values } = await histogram();
    // Buckets, sum and count carry the same method and status labels.
    const labels = new Set(values.map((v) => `${v.labels.method} ${v.labels.status}`));
    expect([...labels].sort()).toEqual(["/swtunnel.test.v1.TestService/Unary 12", "other 12", "other client_unknown"].sort());
    c.close();
  });
});
