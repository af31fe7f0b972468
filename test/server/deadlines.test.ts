/**
 * Time limits the gateway enforces itself, against the real grpc-js backend: the request's
 * deadline (grpc-timeout, connect-timeout-ms), the stream idle timeout, the maximum call
 * duration, the SETTINGS deadline and the upgrade deadline (slowloris). Each shows the
 * precise error the client sees, that the upstream call is cancelled, and that other calls
 * keep working. Deadlines are short and what they cut is long (a backend delay of a minute),
 * so a loaded machine changes nothing.
 */
import net from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import {
  InspectRequestSchema,
  InspectResponseSchema,
  ServerStreamRequestSchema,
  UnaryRequestSchema,
} from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { ErrorCode, type HeaderList } from "../../protocol/index.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../server/index.js";
import { RawClient, envelope, grpcCall, grpcHeaders, header, startH2Backend, unenvelope } from "./helpers.js";

const TEST = "/swtunnel.test.v1.TestService";
const MINUTE = 60_000;
let backend: Backend;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  backend = await startGrpcBackend();
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await backend.close();
});

async function gateway(options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const gw = await createGateway({ upstream: backend.url, port: 0, logger: pino({ level: "silent" }), pingIntervalMs: 0, ...options });
  cleanups.push(() => gw.close(100));
  return gw;
}

async function connect(gw: Gateway, options: Parameters<typeof RawClient.connect>[1] = {}): Promise<RawClient> {
  const c = await RawClient.connect(gw.tunnelUrl, options);
  cleanups.push(() => c.close());
  return c;
}

const ids = new Map<RawClient, number>();
function nextId(c: RawClient): number {
  const id = (ids.get(c) ?? -1) + 2;
  ids.set(c, id);
  return id;
}

function unary(fields: { id?: string; text?: string; delayMs?: number }): Uint8Array {
  return toBinary(UnaryRequestSchema, create(UnaryRequestSchema, fields));
}

/** Starts a gRPC call with extra headers; returns its stream id. */
function startGrpc(c: RawClient, method: string, message: Uint8Array, extra: HeaderList = []): number {
  const id = nextId(c);
  c.send(grpcHeaders(id, `${TEST}/${method}`, false, extra));
  c.send({ kind: "data", streamId: id, endStream: true, data: envelope(message) });
  return id;
}

async function cancelledUpstream(c: RawClient, id: string): Promise<boolean> {
  const r = await grpcCall(c, nextId(c), `${TEST}/Inspect`, toBinary(InspectRequestSchema, create(InspectRequestSchema, { id })));
  return fromBinary(InspectResponseSchema, unenvelope(r.body)[0]!).cancelled;
}

async function expectWorks(c: RawClient): Promise<void> {
  const r = await grpcCall(c, nextId(c), `${TEST}/Unary`, unary({ text: "ok" }));
  expect(header(r.trailers, "grpc-status")).toBe("0");
}

/** The gRPC status and message a call ended with (from its trailers, or a trailers-only head). */
async function grpcStatus(c: RawClient, id: number): Promise<{ status?: string; message: string }> {
  const r = await c.collect(id);
  const status = header(r.trailers, "grpc-status") ?? header(r.headers, "grpc-status");
  const message = header(r.trailers, "grpc-message") ?? header(r.headers, "grpc-message") ?? "";
  return { status, message: decodeURIComponent(message) };
}

/** The gRPC answer of a stream that must be trailers-only: HEADERS with END_STREAM, nothing after. */
async function trailersOnly(c: RawClient, id: string | number, marker: RawClient = c) {
  const streamId = Number(id);
  const head = await c.next((f) => f.kind === "response-headers" && f.streamId === streamId);
  await expectWorks(marker); // anything the gateway sent after the HEADERS on that stream has arrived by now
  const after = c.frames.filter((f) => "streamId" in f && f.streamId === streamId && (f.kind === "data" || f.kind === "trailers"));
  expect(head.kind === "response-headers" && head.endStream).toBe(true);
  expect(after).toEqual([]);
  return head.kind === "response-headers" ? head.headers : [];
}

describe("request deadlines", () => {
  it("grpc-timeout before the response head: trailers-only DEADLINE_EXCEEDED from the gateway, the upstream call cancelled", async () => {
    const hang = await startH2Backend(); // its /test.Raw/Hang never answers, not even a head
    cleanups.push(() => hang.close());
    const gw = await gateway({ upstream: hang.url });
    const c = await connect(gw);
    const marker = await connect(await gateway());
    const id = nextId(c);
    c.send(grpcHeaders(id, "/test.Raw/Hang", false, [["grpc-timeout", "200m"]]));
    c.send({ kind: "data", streamId: id, endStream: true, data: envelope(new Uint8Array(3)) });
    const headers = await trailersOnly(c, id, marker);
    expect(header(headers, "grpc-status")).toBe("4");
    expect(decodeURIComponent(header(headers, "grpc-message") ?? "")).toBe(
      "deadline of 200 ms set by the request (grpc-timeout / connect-timeout-ms) expired at the gateway",
    );
    await expect.poll(() => hang.cancelled, { timeout: 10_000 }).toBe(1);
  });

  it("grpc-timeout after the response head: TRAILERS grpc-status 4 between messages, the upstream call cancelled", async () => {
    const gw = await gateway();
    const c = await connect(gw);
    // The grpc-js backend sends its head at once and answers after a minute.
    const id = startGrpc(c, "Unary", unary({ id: "dl-grpc", delayMs: MINUTE }), [["grpc-timeout", "200m"]]);
    const head = await c.next((f) => f.kind === "response-headers" && f.streamId === id);
    expect(head.kind === "response-headers" && head.endStream).toBe(false);
    // The backend enforces grpc-timeout too; whichever is first, the client sees DEADLINE_EXCEEDED.
    expect((await grpcStatus(c, id)).status).toBe("4");
    await expect.poll(() => cancelledUpstream(c, "dl-grpc"), { timeout: 10_000 }).toBe(true);
    await expectWorks(c);
  });

  it("connect-timeout-ms: a Connect unary error deadline_exceeded (HTTP 504), the upstream call cancelled", async () => {
    const gw = await gateway();
    const c = await connect(gw);
    const id = nextId(c);
    c.send({
      kind: "request-headers",
      streamId: id,
      endStream: false,
      method: "POST",
      path: `${TEST}/Unary`,
      headers: [
        ["content-type", "application/proto"],
        ["connect-protocol-version", "1"],
        ["connect-timeout-ms", "200"],
      ],
    });
    c.send({ kind: "data", streamId: id, endStream: true, data: unary({ id: "dl-connect", delayMs: MINUTE }) });
    const r = await c.collect(id);
    expect(r.status).toBe(504);
    const json = JSON.parse(new TextDecoder().decode(r.body));
    expect(json.code).toBe("deadline_exceeded");
    expect(json.message).toContain("deadline of 200 ms");
    await expect.poll(() => cancelledUpstream(c, "dl-connect"), { timeout: 10_000 }).toBe(true);
  });

  it("maxCallDurationMs caps a call whatever deadline it asks for", async () => {
    const gw = await gateway({ maxCallDurationMs: 300 });
    const c = await connect(gw);
    const id = startGrpc(c, "Unary", unary({ id: "dl-max", delayMs: MINUTE }), [["grpc-timeout", "100S"]]);
    expect(await grpcStatus(c, id)).toEqual({
      status: "4",
      message: "call ran longer than the gateway's maximum call duration of 300 ms (maxCallDurationMs)",
    });
    await expect.poll(() => cancelledUpstream(c, "dl-max"), { timeout: 10_000 }).toBe(true);
    await expectWorks(c); // quick calls are untouched
  });
});

describe("stream idle timeout", () => {
  it("ends a stream nothing moves on: gRPC DEADLINE_EXCEEDED, gRPC-Web after its head RST_STREAM CANCEL; an active stream lives on", async () => {
    const gw = await gateway({ streamIdleTimeoutMs: 2000 });
    // One socket per call: RawClient reads frames with one cursor.
    const c = await connect(gw);
    const d = await connect(gw);
    const e = await connect(gw);
    // A head from the backend, then nothing.
    const silent = startGrpc(e, "Unary", unary({ id: "idle-head", delayMs: MINUTE }));
    // gRPC-Web: a head and one message, then silence (no status can follow a gRPC-Web body from here).
    const quiet = nextId(c);
    c.send({
      kind: "request-headers",
      streamId: quiet,
      endStream: false,
      method: "POST",
      path: `${TEST}/ServerStream`,
      headers: [["content-type", "application/grpc-web+proto"]],
    });
    const quietRequest = create(ServerStreamRequestSchema, { id: "idle-body", count: 2, size: 10, intervalMs: MINUTE });
    c.send({ kind: "data", streamId: quiet, endStream: true, data: envelope(toBinary(ServerStreamRequestSchema, quietRequest)) });
    // Busy for longer than the idle timeout, never idle for long.
    const busy = startGrpc(
      d,
      "ServerStream",
      toBinary(ServerStreamRequestSchema, create(ServerStreamRequestSchema, { count: 50, size: 10, intervalMs: 50 })),
    );
    expect(await grpcStatus(e, silent)).toEqual({ status: "4", message: "no frame on the stream for 2000 ms (streamIdleTimeoutMs)" });
    const rst = await c.next((f) => f.kind === "rst" && f.streamId === quiet);
    expect(rst).toMatchObject({ code: ErrorCode.CANCEL });
    expect(rst.kind === "rst" && rst.message).toContain("streamIdleTimeoutMs");
    const done = await d.collect(busy);
    expect(header(done.trailers, "grpc-status")).toBe("0");
    expect(unenvelope(done.body)).toHaveLength(50);
    await expect.poll(() => cancelledUpstream(c, "idle-head"), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => cancelledUpstream(c, "idle-body"), { timeout: 10_000 }).toBe(true);
  });
});

describe("SETTINGS deadline", () => {
  it("closes a socket that never sends SETTINGS with GOAWAY PROTOCOL_ERROR; PING may not come first", async () => {
    const gw = await gateway({ settingsTimeoutMs: 300 });
    const ok = await connect(gw);
    const mute = await connect(gw, { settings: false });
    const goaway = await mute.next((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR });
    expect(goaway.kind === "goaway" && goaway.message).toBe("no SETTINGS within 300 ms of the upgrade; SETTINGS must be the first frame");
    await mute.closed;
    const pinger = await connect(gw, { settings: false });
    pinger.send({ kind: "ping", data: new Uint8Array(8) });
    const early = await pinger.next((f) => f.kind === "goaway");
    expect(early).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR });
    expect(early.kind === "goaway" && early.message).toContain("first frame must be SETTINGS, got ping");
    await expectWorks(ok);
  });
});

describe("connections before the upgrade (slowloris)", () => {
  it("counts them toward maxSocketsPerIp: 300 slow connections from one IP, 100 held then 408, the rest 429; other IPs unaffected", async () => {
    const upgradeTimeoutMs = 5000;
    const gw = await gateway({ maxSocketsPerIp: 100, upgradeTimeoutMs });
    const port = gw.address.port;
    // Each sends part of an upgrade request head and then nothing; resolves with what it got back.
    const slow = Array.from(
      { length: 300 },
      () =>
        new Promise<string>((resolve) => {
          const s = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.1" });
          let got = "";
          s.on("connect", () => s.write(`GET ${new URL(gw.tunnelUrl).pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`));
          s.on("data", (d) => (got += d));
          s.on("error", () => {});
          s.on("close", () => resolve(got));
        }),
    );
    // While slots are held, the same IP is refused like any socket and other IPs still get in.
    await expect.poll(() => gw.stats().pendingConnections, { timeout: 30_000 }).toBe(100);
    await expect(RawClient.connect(gw.tunnelUrl, { localAddress: "127.0.0.1" })).rejects.toThrow("HTTP 429");
    const other = await connect(gw, { localAddress: "127.0.0.2" });
    await expectWorks(other);
    const answers = await Promise.all(slow);
    const status = (a: string) => a.split("\r\n")[0];
    const refused = answers.filter((a) => status(a) === "HTTP/1.1 429 Too Many Requests");
    const timedOut = answers.filter((a) => status(a) === "HTTP/1.1 408 Request Timeout");
    expect(refused.length + timedOut.length).toBe(300);
    expect(refused.length).toBeGreaterThanOrEqual(200);
    expect(refused[0]).toContain("address 127.0.0.1 is at its limit of 100 sockets");
    expect(timedOut[0]).toContain(`no complete request head within ${upgradeTimeoutMs} ms (upgradeTimeoutMs)`);
    // Once they are gone, the address is admitted again.
    await expect.poll(() => gw.stats().pendingConnections).toBe(0);
    await expectWorks(await connect(gw, { localAddress: "127.0.0.1" }));
  });
});

describe("gateway-made errors and credit", () => {
  it("answers an unreachable upstream trailers-only: HEADERS with grpc-status 14 and END_STREAM, no DATA after", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const gw = await createGateway({ upstream: `http://127.0.0.1:${deadPort}`, port: 0, logger: pino({ level: "silent" }) });
    cleanups.push(() => gw.close(100));
    const c = await RawClient.connect(gw.tunnelUrl);
    cleanups.push(() => c.close());
    const marker = await connect(await gateway());
    const grpc = startGrpc(c, "Unary", unary({ text: "x" }));
    expect(header(await trailersOnly(c, grpc, marker), "grpc-status")).toBe("14");
    const id = nextId(c);
    c.send({
      kind: "request-headers",
      streamId: id,
      endStream: false,
      method: "POST",
      path: `${TEST}/Unary`,
      headers: [["content-type", "application/grpc-web+proto"]],
    });
    c.send({ kind: "data", streamId: id, endStream: true, data: envelope(unary({ text: "x" })) });
    expect(header(await trailersOnly(c, id, marker), "grpc-status")).toBe("14");
  });

  it("returns socket credit for DATA on a forgotten stream at once, below the update threshold too", async () => {
    const gw = await gateway();
    const c = await connect(gw);
    const id = nextId(c);
    c.send(grpcHeaders(id, `${TEST}/Unary`));
    c.send({ kind: "rst", streamId: id, code: ErrorCode.CANCEL, message: "" });
    c.send({ kind: "data", streamId: id, endStream: false, data: new Uint8Array(1000) }); // raced the reset
    const update = await c.next((f) => f.kind === "window-update" && f.streamId === 0);
    expect(update).toMatchObject({ increment: 1000 });
    await expectWorks(c);
  });
});
