/** Keepalive, idle timeout, drain and bounded memory for a slow reader. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { ErrorCode } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import {
  RawClient,
  envelope,
  grpcCall,
  grpcHeaders,
  header,
  startH2Backend,
  until,
  unenvelope,
  watchClientStreams,
  type H2Backend,
} from "./helpers.js";

const silent = pino({ level: "silent" });
let backend: H2Backend;
const gateways: Gateway[] = [];

async function gateway(options: Parameters<typeof createGateway>[0] extends infer O ? Partial<O> : never): Promise<Gateway> {
  const gw = await createGateway({ upstream: backend.url, port: 0, logger: silent, ...options });
  gateways.push(gw);
  return gw;
}

beforeAll(async () => {
  backend = await startH2Backend();
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await backend.close();
});

describe("keepalive", () => {
  it("closes a socket that leaves two PINGs unanswered with KEEPALIVE_TIMEOUT; keeps one that answers", async () => {
    const gw = await gateway({ pingIntervalMs: 40 });
    const silentClient = await RawClient.connect(gw.tunnelUrl);
    const answering = await RawClient.connect(gw.tunnelUrl);
    for (let i = 0; i < 5; i++) {
      const ping = await answering.next((f) => f.kind === "ping");
      if (ping.kind === "ping") answering.send({ kind: "pong", data: ping.data });
    }
    const goaway = await silentClient.next((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ code: ErrorCode.KEEPALIVE_TIMEOUT });
    expect(silentClient.frames.filter((f) => f.kind === "ping")).toHaveLength(2);
    await silentClient.closed;
    expect(answering.frames.some((f) => f.kind === "goaway")).toBe(false);
    // Client PINGs are answered with the same 8 bytes.
    answering.send({ kind: "ping", data: new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]) });
    const pong = await answering.next((f) => f.kind === "pong");
    expect(pong.kind === "pong" && [...pong.data]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    answering.close();
  });
});

describe("idle timeout", () => {
  it("closes a socket without open streams with IDLE_TIMEOUT, not one with an open stream", async () => {
    const gw = await gateway({ idleTimeoutMs: 100, pingIntervalMs: 0 });
    const busy = await RawClient.connect(gw.tunnelUrl);
    busy.send(grpcHeaders(1, "/test.Raw/Hang"));
    const idle = await RawClient.connect(gw.tunnelUrl);
    const goaway = await idle.next((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ code: ErrorCode.IDLE_TIMEOUT, lastStreamId: 0 });
    await idle.closed;
    expect(busy.frames.some((f) => f.kind === "goaway")).toBe(false);
    expect(gw.stats()).toMatchObject({ sockets: 1, streamsActive: 1 });
    busy.close();
  });
});

describe("drain", () => {
  it("sends GOAWAY NO_ERROR with the last id, refuses new streams and upgrades, lets accepted streams finish", async () => {
    const gw = await gateway({});
    const c = await RawClient.connect(gw.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Echo"));
    c.send({ kind: "data", streamId: 1, endStream: false, data: envelope(new Uint8Array([1])).subarray(0, 3) });
    await until(() => gw.stats().streamsActive === 1, "the stream to open");
    const drained = gw.drain();
    const goaway = await c.next((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ code: ErrorCode.NO_ERROR, lastStreamId: 1 });
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    expect(String(await RawClient.connect(gw.tunnelUrl).catch((e) => e))).toContain("HTTP 503");
    c.send(grpcHeaders(3, "/test.Raw/Echo", true));
    const refused = await c.next((f) => f.kind === "rst" && f.streamId === 3);
    expect(refused).toMatchObject({ code: ErrorCode.REFUSED_STREAM });
    // The accepted stream completes.
    c.send({ kind: "data", streamId: 1, endStream: true, data: envelope(new Uint8Array([1])).subarray(3) });
    const result = await c.collect(1);
    expect(header(result.trailers, "grpc-status")).toBe("0");
    expect(unenvelope(result.body)).toEqual([new Uint8Array([1])]);
    await c.closed;
    await drained;
    expect(gw.stats().sockets).toBe(0);
  });

  it("close() cuts streams still open after drainTimeoutMs", async () => {
    const gw = await createGateway({ upstream: backend.url, port: 0, logger: silent });
    const c = await RawClient.connect(gw.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    await until(() => gw.stats().streamsActive === 1, "the stream to open");
    await gw.close(50);
    await c.closed;
    expect(c.frames.find((f) => f.kind === "goaway")).toMatchObject({ code: ErrorCode.NO_ERROR, lastStreamId: 1 });
  });
});

describe("slow reader", () => {
  it("a client that grants no window keeps gateway memory bounded while the upstream offers 100 MB", async () => {
    const gw = await gateway({ pingIntervalMs: 0 });
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage();
    const window = 64 << 10;
    const c = await RawClient.connect(gw.tunnelUrl, { settings: { initialStreamWindow: window, initialConnectionWindow: window } });
    backend.floodWritten = 0;
    const cancelledBefore = backend.cancelled;
    const upstream = watchClientStreams();
    c.send(grpcHeaders(1, "/test.Raw/Flood", true, [["x-flood-bytes", String(100 << 20)]]));
    // The gateway sends exactly the granted window, then stops.
    let received = 0;
    while (received < window) {
      const f = await c.next((x) => x.kind === "data" && x.streamId === 1);
      if (f.kind === "data") received += f.data.length;
    }
    expect(received).toBe(window);
    // Wait until HTTP/2 flow control stops the backend: the gateway's upstream stream grants it no window.
    await until(
      () => upstream.streams.length === 1 && upstream.streams[0]!.state.localWindowSize === 0,
      "the upstream stream's window to close",
    );
    upstream.stop();
    gc?.();
    const after = process.memoryUsage();
    const mib = (n: number) => (n / (1 << 20)).toFixed(1);
    console.log(
      `slow reader: backend wrote ${mib(backend.floodWritten)} of 100 MiB before HTTP/2 flow control stopped it; ` +
        `process rss +${mib(after.rss - before.rss)} MiB, arrayBuffers +${mib(after.arrayBuffers - before.arrayBuffers)} MiB` +
        (gc ? " (after gc)" : " (no gc exposed)"),
    );
    expect(backend.floodWritten).toBeLessThan(16 << 20);
    // What this process may hold: at most the gateway's connection window (8 MiB by default;
    // the stream gets far less) plus what the in-process backend queued (< 16 MiB, above).
    const bound = gw.options.connectionWindow + (16 << 20);
    expect(after.rss - before.rss).toBeLessThan(bound);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(bound);
    expect(c.frames.filter((f) => f.kind === "data").reduce((n, f) => n + (f.kind === "data" ? f.data.length : 0), 0)).toBe(window);
    c.send({ kind: "rst", streamId: 1, code: ErrorCode.CANCEL, message: "reader gave up" });
    await until(() => backend.cancelled > cancelledBefore, "the upstream flood to be cancelled");
    c.close();
  });

  it("a reader that grants window gets every byte, cut to its MAX_FRAME_PAYLOAD", async () => {
    const gw = await gateway({ pingIntervalMs: 0 });
    const c = await RawClient.connect(gw.tunnelUrl, {
      settings: { maxFramePayload: 16 << 10, initialStreamWindow: 100_000, initialConnectionWindow: 100_000 },
    });
    c.send(grpcHeaders(1, "/test.Raw/Flood", true, [["x-flood-bytes", String(4 << 20)]]));
    const result = await c.collect(1);
    expect(result.body.length).toBe(4 << 20);
    expect(header(result.trailers, "grpc-status")).toBe("0");
    const sizes = c.frames.filter((f) => f.kind === "data").map((f) => (f.kind === "data" ? f.data.length : 0));
    expect(Math.max(...sizes)).toBe(16 << 10);
    c.close();
  });
});

describe("pool", () => {
  it("reuses one upstream session for many calls", async () => {
    const gw = await gateway({});
    const c = await RawClient.connect(gw.tunnelUrl);
    await Promise.all([1, 3, 5, 7, 9].map((id) => grpcCall(c, id, "/test.Raw/Echo", new Uint8Array([id]))));
    expect(gw.stats().upstreamSessions).toBe(1);
    c.close();
  });
});
