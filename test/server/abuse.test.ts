/**
 * Clients that do not play fair, against a real gateway and the real grpc-js backend: the
 * gateway's memory is bounded by its own caps (not by the windows a client announces), a
 * PING flood and a stream of stream errors end in GOAWAY ENHANCE_YOUR_CALM with a message,
 * and another socket's calls keep working meanwhile. Memory is heap + ArrayBuffers after
 * full GCs, read once a condition holds (a stream is held at its cap, a verdict was given),
 * never after a sleep.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pino } from "pino";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import {
  InspectRequestSchema,
  InspectResponseSchema,
  ServerStreamRequestSchema,
  UnaryRequestSchema,
  UnaryResponseSchema,
} from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { ErrorCode, MAX_WINDOW, encodeFrame, type Frame } from "../../protocol/index.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../server/index.js";
import { RawClient, envelope, grpcCall, grpcHeaders, header, until, unenvelope } from "./helpers.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const MiB = 1 << 20;
/** Allowance for what a measurement of the whole test process cannot separate (GC timing, lazily built code). */
const SLACK = 8 * MiB;
const TEST = "/swtunnel.test.v1.TestService";

let backend: Backend;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  backend = await startGrpcBackend();
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await backend.close();
});

async function gateway(options: Partial<GatewayOptions>): Promise<Gateway> {
  const gw = await createGateway({ upstream: backend.url, port: 0, logger: pino({ level: "silent" }), pingIntervalMs: 0, ...options });
  cleanups.push(() => gw.close(100));
  return gw;
}

async function connect(gw: Gateway, options: Parameters<typeof RawClient.connect>[1] = {}): Promise<RawClient> {
  const c = await RawClient.connect(gw.tunnelUrl, options);
  cleanups.push(() => c.close());
  return c;
}

/** Heap + ArrayBuffer bytes after full GCs. */
async function settledMemory(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** The value of one sample in the gateway's registry, 0 when absent. */
async function metric(gw: Gateway, sample: string): Promise<number> {
  const line = (await gw.metrics.metrics()).split("\n").find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

const ids = new Map<RawClient, number>();
function nextId(c: RawClient): number {
  const id = (ids.get(c) ?? -1) + 2;
  ids.set(c, id);
  return id;
}

/** A TestService/Unary call that must succeed, echoing `text`. */
async function expectUnaryWorks(c: RawClient, text: string): Promise<void> {
  const request = toBinary(UnaryRequestSchema, create(UnaryRequestSchema, { text }));
  const result = await grpcCall(c, nextId(c), `${TEST}/Unary`, request);
  expect(header(result.trailers, "grpc-status")).toBe("0");
  expect(fromBinary(UnaryResponseSchema, unenvelope(result.body)[0]!).text).toBe(text);
}

/** What the backend recorded for a request id (asked over a socket that works). */
async function inspect(c: RawClient, id: string) {
  const result = await grpcCall(c, nextId(c), `${TEST}/Inspect`, toBinary(InspectRequestSchema, create(InspectRequestSchema, { id })));
  return fromBinary(InspectResponseSchema, unenvelope(result.body)[0]!);
}

/** Sends `frame` and resolves once it (and everything before it) has been written to the kernel. */
function sendFlushed(c: RawClient, frame: Frame): Promise<void> {
  return new Promise((resolve) => c.ws.send(encodeFrame(frame), () => resolve()));
}

describe("a client that announces 2^31-1 windows and never reads", () => {
  it("holds the gateway's memory to its buffered-bytes caps while the backend streams 64 KiB messages; other sockets keep working", async () => {
    const caps = { maxStreamBufferedBytes: 1 * MiB, maxSocketBufferedBytes: 2 * MiB };
    const gw = await gateway(caps);
    const bystander = await connect(gw);
    await expectUnaryWorks(bystander, "warm-up"); // the upstream session and lazy code exist before the baseline
    const before = await settledMemory();

    const attacker = await connect(gw, { settings: { initialStreamWindow: MAX_WINDOW, initialConnectionWindow: MAX_WINDOW } });
    attacker.ws.pause(); // reads nothing from here on: the TCP receive window closes
    const count = 2000; // 2000 x 64 KiB = 125 MiB, far above every cap
    const request = toBinary(ServerStreamRequestSchema, create(ServerStreamRequestSchema, { id: "flood-a", count, size: 64 * 1024 }));
    attacker.send(grpcHeaders(1, `${TEST}/ServerStream`));
    attacker.send({ kind: "data", streamId: 1, endStream: true, data: envelope(request) });

    // The stream reaches a cap and waits for the socket to write; it stops reading upstream.
    await until(() => gw.stats().streamsWaitingForOutput === 1, "the flooding stream to be held at its cap", 60_000);
    expect(gw.stats().bufferedBytes).toBeLessThanOrEqual(caps.maxSocketBufferedBytes + gw.options.maxFramePayload);
    const held = await settledMemory();
    // Meanwhile another socket's calls work, and the backend has been stopped by flow control.
    for (let i = 0; i < 5; i++) await expectUnaryWorks(bystander, `call ${i}`);
    const seen = await inspect(bystander, "flood-a");
    expect(seen.seen).toBe(true);
    expect(seen.messagesSent).toBeLessThan(count);
    const after = await settledMemory();

    // Bound: the socket cap plus one frame, the upstream stream window the gateway grants the
    // backend, and the slack; without the caps the gateway takes in all 125 MiB.
    const bound = caps.maxSocketBufferedBytes + gw.options.maxFramePayload + gw.options.streamWindow + SLACK;
    const growth = Math.max(held, after) - before;
    console.log(
      `non-reader with 2^31-1 windows: gateway+backend memory grew ${(growth / MiB).toFixed(1)} MiB (bound ${(bound / MiB).toFixed(1)} MiB); ` +
        `backend sent ${seen.messagesSent} of ${count} messages; ${gw.stats().bufferedBytes} bytes queued at the gateway`,
    );
    expect(growth).toBeLessThan(bound);

    // The attacker leaves: its upstream call is cancelled and nothing stays behind.
    attacker.close();
    await until(() => gw.stats().sockets === 1 && gw.stats().streamsActive === 0, "the attacker's socket and stream to end");
    await expect.poll(async () => (await inspect(bystander, "flood-a")).cancelled).toBe(true);
  });
});

describe("control replies and stream errors", () => {
  it("ends a PING flood from a client that does not read with GOAWAY ENHANCE_YOUR_CALM; memory stays bounded; other sockets keep working", async () => {
    const maxQueuedControlFrames = 1000;
    const gw = await gateway({ maxQueuedControlFrames });
    const bystander = await connect(gw);
    await expectUnaryWorks(bystander, "warm-up");
    const before = await settledMemory();

    const attacker = await connect(gw);
    attacker.ws.pause();
    const ping: Frame = { kind: "ping", data: new Uint8Array(8) };
    const verdict = () => metric(gw, 'swtunnel_errors_total{code="ENHANCE_YOUR_CALM"}');
    const pingsRead = () => metric(gw, 'swtunnel_frames_total{kind="ping",direction="in"}');
    let sent = 0;
    // 400k PINGs in batches, each read by the gateway before the next, until its verdict.
    while (sent < 400_000 && (await verdict()) === 0) {
      for (let i = 1; i < 10_000; i++) attacker.send(ping);
      await sendFlushed(attacker, ping);
      sent += 10_000;
      await vi.waitFor(async () => expect((await verdict()) > 0 || (await pingsRead()) >= sent).toBe(true), { timeout: 60_000 });
    }
    expect(await verdict()).toBe(1);
    const after = await settledMemory();
    await expectUnaryWorks(bystander, "during the flood");

    // Bound: the queued replies (well under 1 KiB each with ws's bookkeeping) and the slack;
    // without the cap 400k queued PONGs cost more than 100 MiB.
    const bound = maxQueuedControlFrames * 1024 + SLACK;
    const growth = after - before;
    console.log(
      `PING flood: gateway verdict after ${sent} PINGs; memory grew ${(growth / MiB).toFixed(1)} MiB (bound ${(bound / MiB).toFixed(1)} MiB)`,
    );
    expect(growth).toBeLessThan(bound);

    // Reading again, the client finds the PONGs that were queued and then the GOAWAY.
    attacker.ws.resume();
    const goaway = await attacker.next((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ code: ErrorCode.ENHANCE_YOUR_CALM });
    expect(goaway.kind === "goaway" && goaway.message).toContain(`more than ${maxQueuedControlFrames} control frames`);
    await attacker.closed;
    await until(() => gw.stats().sockets === 1, "the flooding socket to end");
    await expectUnaryWorks(bystander, "after the flood");
  });

  it("ends a socket past its stream-error budget with GOAWAY ENHANCE_YOUR_CALM; upstream failures and cancels do not count", async () => {
    const gw = await gateway({ maxStreamErrorsPerSocket: 5, allowServices: ["swtunnel.test.v1.TestService"] });
    const bystander = await connect(gw);
    const client = await connect(gw);
    // Not the client's fault: failing calls and the client's own cancels.
    for (let i = 0; i < 8; i++) {
      const failed = await grpcCall(client, nextId(client), `${TEST}/Fail`, new Uint8Array([8, 9])); // code 9
      expect(header(failed.trailers, "grpc-status") ?? header(failed.headers, "grpc-status")).toBe("9");
      const id = nextId(client);
      client.send(grpcHeaders(id, `${TEST}/Unary`));
      client.send({ kind: "rst", streamId: id, code: ErrorCode.CANCEL, message: "" });
    }
    await expectUnaryWorks(client, "still fine");
    // The client's fault: five forbidden services and malformed headers are within the budget...
    for (let i = 0; i < 5; i++) {
      const id = nextId(client);
      if (i % 2 === 0) client.send(grpcHeaders(id, "/other.Service/Call", true));
      else client.sendRaw(malformedHeaders(id));
      const rst = await client.next((f) => f.kind === "rst" && f.streamId === id);
      expect(rst).toMatchObject({ code: i % 2 === 0 ? ErrorCode.FORBIDDEN : ErrorCode.PROTOCOL_ERROR });
    }
    expect(client.frames.some((f) => f.kind === "goaway")).toBe(false);
    // ...the sixth is one too many.
    client.send(grpcHeaders(nextId(client), "/other.Service/Call", true));
    const goaway = await client.next((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ code: ErrorCode.ENHANCE_YOUR_CALM });
    expect(goaway.kind === "goaway" && goaway.message).toContain("more than 5 stream errors caused by this client");
    await client.closed;
    await expectUnaryWorks(bystander, "unaffected");
  });
});

/** A request HEADERS whose header block has an uppercase name (a stream error PROTOCOL_ERROR). */
function malformedHeaders(id: number): Uint8Array {
  const name = new TextEncoder().encode("Bad-Name");
  const method = new TextEncoder().encode("POST");
  const path = new TextEncoder().encode(`${TEST}/Unary`);
  const out = new Uint8Array(6 + 1 + method.length + 2 + path.length + 2 + 2 + name.length + 4);
  const view = new DataView(out.buffer);
  out[0] = 0x1; // HEADERS
  out[1] = 0x1; // END_STREAM
  view.setUint32(2, id);
  let o = 6;
  out[o++] = method.length;
  out.set(method, o);
  o += method.length;
  view.setUint16(o, path.length);
  o += 2;
  out.set(path, o);
  o += path.length;
  view.setUint16(o, 1); // one entry
  o += 2;
  view.setUint16(o, name.length);
  o += 2;
  out.set(name, o);
  o += name.length;
  view.setUint32(o, 0); // empty value
  return out;
}
