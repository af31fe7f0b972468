import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { ErrorCode, PROTOCOL_VERSION, SettingId } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, envelope, grpcCall, header, startH2Backend, unenvelope, type H2Backend } from "./helpers.js";

const silent = pino({ level: "silent" });
let backend: H2Backend;
let gateway: Gateway;

beforeAll(async () => {
  backend = await startH2Backend();
  gateway = await createGateway({ upstream: backend.url, port: 0, logger: silent, maxStreamsPerSocket: 4, adminListen: "127.0.0.1:0" });
});
afterAll(async () => {
  await gateway.close(100);
  await backend.close();
});

describe("gateway basics", () => {
  it("exchanges SETTINGS: the gateway announces its limits first", async () => {
    const client = await RawClient.connect(gateway.tunnelUrl);
    const settings = client.frames[0]!;
    expect(settings.kind).toBe("settings");
    if (settings.kind !== "settings") return;
    expect(settings.settings).toEqual({
      version: PROTOCOL_VERSION,
      maxConcurrentStreams: 4,
      initialStreamWindow: 1 << 20,
      initialConnectionWindow: 8 << 20,
      maxFramePayload: 64 << 10,
      pingIntervalMs: 25_000,
      frameBatches: 1,
    });
    expect(SettingId.VERSION).toBe(1);
    client.close();
  });

  it("carries a unary gRPC call: request, response, trailers; adds te: trailers upstream", async () => {
    const client = await RawClient.connect(gateway.tunnelUrl);
    const message = new TextEncoder().encode("hello through the tunnel");
    const result = await grpcCall(client, 1, "/test.Raw/Echo", message);
    expect(result.status).toBe(200);
    expect(header(result.headers, "content-type")).toBe("application/grpc");
    expect(unenvelope(result.body)).toEqual([message]);
    expect(header(result.trailers, "grpc-status")).toBe("0");
    expect(header(result.trailers, "x-echo-te")).toBe("trailers");
    // Stream ids increase; a second call on the same socket works too.
    const second = await grpcCall(client, 3, "/test.Raw/Echo", new Uint8Array(200_000).fill(9));
    expect(unenvelope(second.body)[0]!.length).toBe(200_000);
    client.close();
  });

  it("ends a trailers-only response on its HEADERS frame", async () => {
    const client = await RawClient.connect(gateway.tunnelUrl);
    client.send({
      kind: "request-headers",
      streamId: 1,
      endStream: false,
      method: "POST",
      path: "/test.Raw/Nope",
      headers: [["content-type", "application/grpc"]],
    });
    client.send({ kind: "data", streamId: 1, endStream: true, data: envelope(new Uint8Array(0)) });
    const head = await client.next((f) => f.kind === "response-headers");
    expect(head.kind === "response-headers" && head.endStream).toBe(true);
    expect(head.kind === "response-headers" && header(head.headers, "grpc-status")).toBe("12");
    client.close();
  });

  it("answers 415 with the supported types for an unknown content type", async () => {
    const client = await RawClient.connect(gateway.tunnelUrl);
    client.send({
      kind: "request-headers",
      streamId: 1,
      endStream: true,
      method: "POST",
      path: "/test.Raw/Echo",
      headers: [["content-type", "text/xml"]],
    });
    const result = await client.collect(1);
    expect(result.status).toBe(415);
    expect(new TextDecoder().decode(result.body)).toContain("unsupported content-type text/xml");
    expect(new TextDecoder().decode(result.body)).toContain("grpc");
    client.close();
  });

  it("maps upstream resets: REFUSED_STREAM before the head -> grpc-status 14; a reset after the head -> RST_STREAM INTERNAL_ERROR", async () => {
    const client = await RawClient.connect(gateway.tunnelUrl);
    const refused = await grpcCall(client, 1, "/test.Raw/Refuse", new Uint8Array(1));
    expect(refused.status).toBe(200);
    expect(header(refused.headers, "grpc-status")).toBe("14");
    const reset = await grpcCall(client, 3, "/test.Raw/Reset", new Uint8Array(1));
    expect(reset.status).toBe(200);
    expect(reset.rst?.code).toBe(ErrorCode.INTERNAL_ERROR);
    client.close();
  });

  it("serves /healthz and /readyz on both listeners, /metrics on the admin listener only", async () => {
    expect(await (await fetch(`${gateway.url}/healthz`)).text()).toBe("ok\n");
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    const hidden = await fetch(`${gateway.url}/metrics`);
    expect(hidden.status).toBe(404);
    expect(await hidden.text()).toContain("--admin-listen");
    expect(await (await fetch(`${gateway.adminUrl}/healthz`)).text()).toBe("ok\n");
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${gateway.adminUrl}/tunnel`)).status).toBe(404);
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    for (const name of [
      "swtunnel_sockets",
      "swtunnel_streams_active",
      "swtunnel_streams_total",
      "swtunnel_bytes_total",
      "swtunnel_frames_total",
      "swtunnel_errors_total",
      "swtunnel_upstream_sessions",
      "swtunnel_call_duration_seconds_bucket",
    ]) {
      expect(metrics).toContain(name);
    }
    // No descriptors and no allowServices: every method label is "other" (a closed set).
    expect(metrics).toMatch(/swtunnel_call_duration_seconds_count\{method="other",status="0"\} \d+/);
    expect(metrics).toMatch(/swtunnel_frames_total\{kind="request-headers",direction="in"\} \d+/);
  });
});

describe("upstream down and back", () => {
  it("answers grpc-status 14 while the backend is down, and works again once it is back, without a restart", async () => {
    const down = await startH2Backend();
    const port = down.port;
    await down.close();
    const gw = await createGateway({ upstream: `http://127.0.0.1:${port}`, port: 0, logger: silent });
    try {
      const client = await RawClient.connect(gw.tunnelUrl);
      const failed = await grpcCall(client, 1, "/test.Raw/Echo", new Uint8Array([1]));
      expect(failed.status).toBe(200);
      expect(header(failed.headers, "grpc-status")).toBe("14");
      const message = decodeURIComponent(header(failed.headers, "grpc-message") ?? "");
      expect(message).toBe("cannot reach the upstream (ECONNREFUSED)");
      expect(message).not.toContain(String(port)); // the address is in the log only
      expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
      const back = await startH2Backend(port);
      try {
        await expect.poll(async () => (await fetch(`${gw.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
        const ok = await grpcCall(client, 3, "/test.Raw/Echo", new Uint8Array([1, 2]));
        expect(header(ok.trailers, "grpc-status")).toBe("0");
        expect(unenvelope(ok.body)).toEqual([new Uint8Array([1, 2])]);
      } finally {
        client.close();
        await back.close();
      }
    } finally {
      await gw.close(100);
    }
  });
});
