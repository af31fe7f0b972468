/**
 * Every breach gets its precise RST_STREAM / GOAWAY code and message, is counted, and
 * leaves other sockets untouched: a second well-behaved socket completes a call after each.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { ErrorCode, FrameType, PROTOCOL_VERSION, type Frame } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, envelope, grpcCall, grpcHeaders, header, startH2Backend, until, unenvelope, type H2Backend } from "./helpers.js";

const silent = pino({ level: "silent" });
let backend: H2Backend;
let gateway: Gateway;
let healthy: RawClient;
let healthyId = -1;

async function expectHealthy(): Promise<void> {
  healthyId += 2;
  const result = await grpcCall(healthy, healthyId, "/test.Raw/Echo", new Uint8Array([healthyId & 0xff]));
  expect(header(result.trailers, "grpc-status")).toBe("0");
  expect(unenvelope(result.body)).toEqual([new Uint8Array([healthyId & 0xff])]);
}

async function expectGoaway(client: RawClient, code: ErrorCode, message: RegExp, lastStreamId = 0): Promise<void> {
  const goaway = await client.next((f) => f.kind === "goaway");
  expect(goaway).toMatchObject({ kind: "goaway", code, lastStreamId });
  if (goaway.kind === "goaway") expect(goaway.message).toMatch(message);
  await client.closed;
  await expectHealthy();
}

async function expectRst(client: RawClient, streamId: number, code: ErrorCode, message: RegExp): Promise<void> {
  const rst = await client.next((f) => f.kind === "rst" && f.streamId === streamId);
  expect(rst).toMatchObject({ kind: "rst", streamId, code });
  if (rst.kind === "rst") expect(rst.message).toMatch(message);
  await expectHealthy();
}

beforeAll(async () => {
  backend = await startH2Backend();
  gateway = await createGateway({
    upstream: backend.url,
    port: 0,
    logger: silent,
    maxStreamsPerSocket: 3,
    maxHeaderBlockBytes: 1024,
    streamWindow: 16384,
    maxMessageBytes: 32 << 10,
    allowServices: ["test.Raw"],
  });
  healthy = await RawClient.connect(gateway.tunnelUrl);
});
afterAll(async () => {
  healthy.close();
  await gateway.close(100);
  await backend.close();
});

describe("socket errors: GOAWAY and close", () => {
  it("a frame shorter than its header: FRAME_SIZE_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.sendRaw(new Uint8Array([0, 0, 0]));
    await expectGoaway(c, ErrorCode.FRAME_SIZE_ERROR, /shorter than the 6-byte header/);
  });

  it("an oversized frame: FRAME_SIZE_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    c.send({ kind: "data", streamId: 1, endStream: false, data: new Uint8Array((64 << 10) + 1) });
    await expectGoaway(c, ErrorCode.FRAME_SIZE_ERROR, /exceeds the limit of 65536/, 1);
  });

  it("a text message: PROTOCOL_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.sendRaw("hello");
    await expectGoaway(c, ErrorCode.PROTOCOL_ERROR, /text WebSocket message/);
  });

  it("a first frame other than SETTINGS: PROTOCOL_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl, { settings: false }).catch(() => undefined);
    // connect() waits for the gateway's SETTINGS, which come first regardless.
    expect(c).toBeDefined();
    c!.send({ kind: "ping", data: new Uint8Array(8) });
    await expectGoaway(c!, ErrorCode.PROTOCOL_ERROR, /first frame must be SETTINGS/);
  });

  it("an unsupported version: UNSUPPORTED_VERSION naming the version spoken", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl, { settings: { version: 7 } });
    await expectGoaway(c, ErrorCode.UNSUPPORTED_VERSION, /speaks version 1 only/);
  });

  it("a second SETTINGS: PROTOCOL_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send({ kind: "settings", settings: { version: PROTOCOL_VERSION } });
    await expectGoaway(c, ErrorCode.PROTOCOL_ERROR, /second SETTINGS/);
  });

  it("a frame for a stream above the highest opened id: PROTOCOL_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send({ kind: "data", streamId: 5, endStream: false, data: new Uint8Array(3) });
    await expectGoaway(c, ErrorCode.PROTOCOL_ERROR, /above the highest opened id 0/);
  });

  it("a reused or decreasing stream id: PROTOCOL_ERROR with the last accepted id", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(3, "/test.Raw/Hang"));
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    await expectGoaway(c, ErrorCode.PROTOCOL_ERROR, /not greater than the highest id 3/, 3);
  });

  it("DATA beyond the socket window: FLOW_CONTROL_ERROR", async () => {
    const small = await createGateway({ upstream: backend.url, port: 0, logger: silent, connectionWindow: 16384 });
    try {
      const c = await RawClient.connect(small.tunnelUrl);
      c.send(grpcHeaders(1, "/test.Raw/Stall"));
      c.send({ kind: "data", streamId: 1, endStream: false, data: new Uint8Array(20000) });
      const goaway = await c.next((f) => f.kind === "goaway");
      expect(goaway).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR, lastStreamId: 1 });
      await c.closed;
      await expectHealthy();
    } finally {
      await small.close(100);
    }
  });

  it("a socket WINDOW_UPDATE overflowing 2^31-1: FLOW_CONTROL_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send({ kind: "window-update", streamId: 0, increment: 0x7fffffff });
    await expectGoaway(c, ErrorCode.FLOW_CONTROL_ERROR, /overflows the window/);
  });

  it("random bytes never crash the gateway; each bad socket ends alone", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 8 }), async (messages) => {
        const c = await RawClient.connect(gateway.tunnelUrl);
        for (const m of messages) c.sendRaw(m);
        // A PING after the garbage: either the socket answers it or it was closed with a GOAWAY.
        c.send({ kind: "ping", data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
        const answer = await c.next((f) => f.kind === "pong" || f.kind === "goaway").catch(() => undefined);
        if (answer === undefined) expect(c.closeCode).toBeDefined();
        c.close();
      }),
      { numRuns: 60 },
    );
    await expectHealthy();
    await until(() => gateway.stats().sockets === 1, "fuzzed sockets to close");
  });
});

describe("stream errors: RST_STREAM, the socket lives on", () => {
  it("too many concurrent streams: REFUSED_STREAM", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    for (const id of [1, 3, 5, 7]) c.send(grpcHeaders(id, "/test.Raw/Hang"));
    await expectRst(c, 7, ErrorCode.REFUSED_STREAM, /more than 3 concurrent streams/);
    c.send({ kind: "rst", streamId: 1, code: ErrorCode.CANCEL, message: "done" });
    const ok = await grpcCall(c, 9, "/test.Raw/Echo", new Uint8Array([9]));
    expect(header(ok.trailers, "grpc-status")).toBe("0");
    c.close();
  });

  it("an oversized header block: HEADER_BLOCK_TOO_LARGE", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Echo", true, [["x-big", "v".repeat(2000)]]));
    await expectRst(c, 1, ErrorCode.HEADER_BLOCK_TOO_LARGE, /exceeds the limit of 1024/);
    // The id was used: a smaller one is a reuse, a larger one works.
    const ok = await grpcCall(c, 3, "/test.Raw/Echo", new Uint8Array([3]));
    expect(header(ok.trailers, "grpc-status")).toBe("0");
    c.close();
  });

  it("DATA beyond the stream window: FLOW_CONTROL_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Stall"));
    c.send({ kind: "data", streamId: 1, endStream: false, data: new Uint8Array(20000) });
    await expectRst(c, 1, ErrorCode.FLOW_CONTROL_ERROR, /only 16384 of window left/);
    c.close();
  });

  it("a service outside allowServices: FORBIDDEN", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/other.Service/Method", true));
    await expectRst(c, 1, ErrorCode.FORBIDDEN, /service other.Service is not allowed/);
    expect(backend.seen).not.toContain("/other.Service/Method");
    c.close();
  });

  it("a request message over maxMessageBytes: MESSAGE_TOO_LARGE", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    const big = envelope(new Uint8Array(40 << 10));
    c.send({ kind: "data", streamId: 1, endStream: false, data: big.subarray(0, 100) });
    await expectRst(c, 1, ErrorCode.MESSAGE_TOO_LARGE, /message of 40960 bytes exceeds the limit of 32768/);
    c.close();
  });

  it("a response message over maxMessageBytes: MESSAGE_TOO_LARGE, upstream cancelled", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    const before = backend.cancelled;
    c.send(grpcHeaders(1, "/test.Raw/Flood", true, [["x-flood-bytes", String(1 << 20)]]));
    await expectRst(c, 1, ErrorCode.MESSAGE_TOO_LARGE, /response message of 65531 bytes exceeds the limit of 32768/);
    await until(() => backend.cancelled > before, "the upstream stream to be cancelled");
    c.close();
  });

  it("frames for closed streams at or below the highest id are ignored", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    await grpcCall(c, 1, "/test.Raw/Echo", new Uint8Array([1]));
    const late: Frame[] = [
      { kind: "data", streamId: 1, endStream: true, data: new Uint8Array(10) },
      { kind: "window-update", streamId: 1, increment: 100 },
      { kind: "rst", streamId: 1, code: ErrorCode.CANCEL, message: "late" },
    ];
    for (const f of late) c.send(f);
    const ok = await grpcCall(c, 3, "/test.Raw/Echo", new Uint8Array([3]));
    expect(header(ok.trailers, "grpc-status")).toBe("0");
    expect(c.frames.some((f) => f.kind === "goaway")).toBe(false);
    c.close();
  });

  it("a client RST_STREAM cancels the upstream request", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    const before = backend.cancelled;
    const seen = backend.seen.length;
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    await until(() => backend.seen.length > seen, "the backend to see the call");
    c.send({ kind: "rst", streamId: 1, code: ErrorCode.CANCEL, message: "caller aborted" });
    await until(() => backend.cancelled > before, "the upstream stream to be cancelled");
    c.close();
  });

  it("counts errors by code in /metrics", async () => {
    const text = await gateway.metrics.metrics();
    for (const code of [
      "PROTOCOL_ERROR",
      "FRAME_SIZE_ERROR",
      "REFUSED_STREAM",
      "HEADER_BLOCK_TOO_LARGE",
      "FORBIDDEN",
      "MESSAGE_TOO_LARGE",
      "FLOW_CONTROL_ERROR",
    ]) {
      expect(text).toMatch(new RegExp(`swtunnel_errors_total\\{code="${code}"\\} [1-9]`));
    }
    expect(FrameType.GOAWAY).toBe(8);
  });
});

describe("admission at the upgrade", () => {
  const status = (err: unknown) => Number(/HTTP (\d+)/.exec(String(err))?.[1]);

  it("refuses an upgrade without the subprotocol: 400", async () => {
    expect(status(await RawClient.connect(gateway.tunnelUrl, { protocols: ["other"] }).catch((e) => e))).toBe(400);
    await expectHealthy();
  });

  it("refuses a foreign Origin when no allowlist is configured: 403; allows its own origin", async () => {
    expect(status(await RawClient.connect(gateway.tunnelUrl, { origin: "https://evil.example" }).catch((e) => e))).toBe(403);
    const own = await RawClient.connect(gateway.tunnelUrl, { origin: gateway.url });
    own.close();
  });

  it("applies allowOrigins, authenticate and the per-IP limit", async () => {
    const gw = await createGateway({
      upstream: backend.url,
      port: 0,
      logger: silent,
      allowOrigins: ["https://app.example.com"],
      allowNoOrigin: false,
      maxSocketsPerIp: 1,
      authenticate: (req) => req.headers["authorization"] === "Bearer ok",
    });
    try {
      const auth = { authorization: "Bearer ok" };
      expect(status(await RawClient.connect(gw.tunnelUrl, { origin: "https://other.example.com", headers: auth }).catch((e) => e))).toBe(
        403,
      );
      expect(status(await RawClient.connect(gw.tunnelUrl, { headers: auth }).catch((e) => e))).toBe(403);
      expect(status(await RawClient.connect(gw.tunnelUrl, { origin: "https://app.example.com" }).catch((e) => e))).toBe(403);
      const ok = await RawClient.connect(gw.tunnelUrl, { origin: "https://app.example.com", headers: auth });
      expect(status(await RawClient.connect(gw.tunnelUrl, { origin: "https://app.example.com", headers: auth }).catch((e) => e))).toBe(429);
      ok.close();
      await until(() => gw.stats().sockets === 0, "the socket to close");
      const again = await RawClient.connect(gw.tunnelUrl, { origin: "https://app.example.com", headers: auth });
      again.close();
    } finally {
      await gw.close(100);
    }
  });
});
