import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { ErrorCode, decodeFrame, type Frame } from "../../protocol/index.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../server/index.js";
import {
  RawClient,
  envelope,
  upgradeByHand,
  grpcCall,
  grpcHeaders,
  header,
  startH2Backend,
  until,
  unenvelope,
  type H2Backend,
} from "./helpers.js";

const silent = pino({ level: "silent" });
let backend: H2Backend;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  backend = await startH2Backend();
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await backend.close();
});

async function gateway(options: Partial<GatewayOptions>): Promise<Gateway> {
  const gw = await createGateway({ upstream: backend.url, port: 0, logger: silent, ...options });
  cleanups.push(() => gw.close(100));
  return gw;
}

async function connect(gw: Gateway, localAddress?: string): Promise<RawClient> {
  const c = await RawClient.connect(gw.tunnelUrl, { localAddress });
  cleanups.push(() => c.close());
  return c;
}

/** The value of one sample in the gateway's registry, 0 when absent (read in-process: an HTTP scrape would take a socket slot). */
async function metric(gw: Gateway, sample: string): Promise<number> {
  const text = await gw.metrics.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

let nextId = 1;
/** A WebSocket upgrade by hand: the status and body of a refusal (an admitted socket is closed at once). */
async function upgrade(gw: Gateway, localAddress?: string): Promise<{ status: number; body: string }> {
  const { status, body, close } = await upgradeByHand(gw.tunnelUrl, { localAddress });
  close();
  return { status, body };
}

async function expectWorks(c: RawClient): Promise<void> {
  const id = (nextId += 2);
  const result = await grpcCall(c, id, "/test.Raw/Echo", new Uint8Array([id & 0xff]));
  expect(header(result.trailers, "grpc-status")).toBe("0");
  expect(unenvelope(result.body)).toEqual([new Uint8Array([id & 0xff])]);
}

describe("socket limits at the upgrade", () => {
  it("maxSockets: 503 with the limit in the body, counted; open sockets keep working; a slot frees on close", async () => {
    const gw = await gateway({ maxSockets: 2 });
    const a = await connect(gw);
    const b = await connect(gw);
    expect(await upgrade(gw)).toEqual({ status: 503, body: "gateway is at its limit of 2 sockets\n" });
    expect(await upgrade(gw, "127.0.0.2")).toEqual({ status: 503, body: "gateway is at its limit of 2 sockets\n" });
    expect(await metric(gw, 'swtunnel_errors_total{code="http_503"}')).toBe(2);
    expect(await metric(gw, 'swtunnel_upgrades_rejected_total{status="503"}')).toBe(2);
    expect(gw.stats().sockets).toBe(2);
    await expectWorks(a);
    await expectWorks(b);
    a.close();
    await until(() => gw.stats().sockets === 1, "the closed socket to free its slot");
    await expectWorks(await connect(gw));
  });

  it("maxSocketsPerIp: 429 naming the address (the client is over its limit, not the gateway); another address is still admitted", async () => {
    const gw = await gateway({ maxSocketsPerIp: 2 });
    const a = await connect(gw);
    await connect(gw);
    expect(await upgrade(gw)).toEqual({ status: 429, body: "address 127.0.0.1 is at its limit of 2 sockets\n" });
    expect(await metric(gw, 'swtunnel_errors_total{code="http_429"}')).toBe(1);
    const other = await connect(gw, "127.0.0.2");
    await expectWorks(other);
    await expectWorks(a);
    expect(gw.stats().sockets).toBe(3);
  });

  it("refused upgrades hold no slot: many refusals, then a slot that frees is usable", async () => {
    const gw = await gateway({ maxSockets: 1 });
    const a = await connect(gw);
    for (let i = 0; i < 20; i++) expect((await upgrade(gw)).status).toBe(503);
    a.close();
    await until(() => gw.stats().sockets === 0, "the socket to close");
    await expectWorks(await connect(gw));
    expect(await metric(gw, 'swtunnel_errors_total{code="http_503"}')).toBe(20);
  });
});

describe("maxMessageBytes", () => {
  const limit = 32 << 10;
  let gw: Gateway;
  let connectGw: Gateway;
  beforeAll(async () => {
    gw = await gateway({ maxMessageBytes: limit });
    connectGw = await gateway({ maxMessageBytes: limit, upstreamProtocol: "connect" });
  });

  it("a gRPC response message over the limit: head, then RST_STREAM MESSAGE_TOO_LARGE; upstream cancelled; counted", async () => {
    const c = await connect(gw);
    const other = await connect(gw);
    const cancelled = backend.cancelled;
    c.send(grpcHeaders(1, "/test.Raw/Flood", true, [["x-flood-bytes", String(1 << 20)]]));
    const result = await c.collect(1);
    expect(result.status).toBe(200);
    expect(result.body.length).toBe(0); // the breach is found from the envelope prefix, before the message goes out
    expect(result.rst).toEqual({
      code: ErrorCode.MESSAGE_TOO_LARGE,
      message: `response message of ${(64 << 10) - 5} bytes exceeds the limit of ${limit}`,
    });
    await until(() => backend.cancelled > cancelled, "the upstream stream to be cancelled");
    expect(await metric(gw, 'swtunnel_errors_total{code="MESSAGE_TOO_LARGE"}')).toBe(1);
    await expectWorks(c);
    await expectWorks(other);
  });

  it("a gRPC message of exactly the limit passes both ways", async () => {
    const c = await connect(gw);
    const message = new Uint8Array(limit).fill(9);
    const result = await grpcCall(c, 1, "/test.Raw/Echo", message);
    expect(result.rst).toBeUndefined();
    expect(header(result.trailers, "grpc-status")).toBe("0");
    expect(unenvelope(result.body)).toEqual([message]);
  });

  it("a gRPC request message one byte over: RST_STREAM MESSAGE_TOO_LARGE before the upstream sees the message", async () => {
    const c = await connect(gw);
    const before = await metric(gw, 'swtunnel_errors_total{code="MESSAGE_TOO_LARGE"}');
    c.send(grpcHeaders(1, "/test.Raw/Echo"));
    c.send({ kind: "data", streamId: 1, endStream: false, data: envelope(new Uint8Array(limit + 1)).subarray(0, 5) });
    const rst = await c.next((f) => f.kind === "rst" && f.streamId === 1);
    expect(rst).toMatchObject({
      code: ErrorCode.MESSAGE_TOO_LARGE,
      message: `request message of ${limit + 1} bytes exceeds the limit of ${limit}`,
    });
    expect(await metric(gw, 'swtunnel_errors_total{code="MESSAGE_TOO_LARGE"}')).toBe(before + 1);
    await expectWorks(c);
  });

  it("a Connect unary (unenveloped) body over the limit, either way: RST_STREAM MESSAGE_TOO_LARGE on the whole body", async () => {
    const c = await connect(connectGw);
    const before = await metric(connectGw, 'swtunnel_errors_total{code="MESSAGE_TOO_LARGE"}');
    // Request: the body is counted as it arrives.
    c.send({
      kind: "request-headers",
      streamId: 1,
      endStream: false,
      method: "POST",
      path: "/test.Raw/Hang",
      headers: [["content-type", "application/proto"]],
    });
    c.send({ kind: "data", streamId: 1, endStream: false, data: new Uint8Array(limit) });
    c.send({ kind: "data", streamId: 1, endStream: false, data: new Uint8Array(1) });
    const rst = await c.next((f) => f.kind === "rst" && f.streamId === 1);
    expect(rst).toMatchObject({
      code: ErrorCode.MESSAGE_TOO_LARGE,
      message: `request body of more than ${limit} bytes exceeds the message limit`,
    });
    // Response: /test.Raw/Blob answers one body of x-blob-bytes bytes.
    const blob = async (id: number, bytes: number) => {
      const head: Frame = {
        kind: "request-headers",
        streamId: id,
        endStream: true,
        method: "POST",
        path: "/test.Raw/Blob",
        headers: [
          ["content-type", "application/proto"],
          ["x-blob-bytes", String(bytes)],
        ],
      };
      c.send(head);
      return c.collect(id);
    };
    const atLimit = await blob(3, limit);
    expect(atLimit.rst).toBeUndefined();
    expect(atLimit.body.length).toBe(limit);
    const over = await blob(5, limit + 1);
    expect(over.status).toBe(200);
    expect(over.rst).toEqual({
      code: ErrorCode.MESSAGE_TOO_LARGE,
      message: `response body of more than ${limit} bytes exceeds the message limit`,
    });
    expect(await metric(connectGw, 'swtunnel_errors_total{code="MESSAGE_TOO_LARGE"}')).toBe(before + 2);
    await expectWorks(await connect(gw));
  });
});

describe("maxStreamsPerSocket with a well-behaved client", () => {
  it("a client that keeps to the announced MAX_CONCURRENT_STREAMS, opening the next stream the moment one ends, is never refused", async () => {
    const gw = await gateway({ maxStreamsPerSocket: 2 });
    const c = await connect(gw);
    const settings = c.frames.find((f) => f.kind === "settings");
    const max = settings?.kind === "settings" ? settings.settings.maxConcurrentStreams : undefined;
    expect(max).toBe(2);
    const total = 40;
    let opened = 0;
    let ended = 0;
    let open = 0;
    let peak = 0;
    const start = () => {
      const id = 2 * opened++ + 1;
      open++;
      peak = Math.max(peak, open);
      c.send(grpcHeaders(id, "/test.Raw/Echo"));
      c.send({ kind: "data", streamId: id, endStream: true, data: envelope(new Uint8Array([id & 0xff])) });
    };
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    // Reacts on the raw socket, before RawClient queues the frame: the tightest a client can be.
    c.ws.on("message", (data: Buffer) => {
      const f: Frame = decodeFrame(new Uint8Array(data), "server", { maxFramePayload: 1 << 20, maxHeaderBlockBytes: 1 << 20 });
      if (f.kind === "trailers" || f.kind === "rst") {
        open--;
        ended++;
        if (opened < total) start();
        if (ended === total) done();
      }
    });
    for (let i = 0; i < max!; i++) start();
    await finished;
    expect(peak).toBe(2);
    expect(c.frames.filter((f) => f.kind === "rst")).toEqual([]);
    expect(c.frames.filter((f) => f.kind === "trailers")).toHaveLength(total);
    expect(await metric(gw, 'swtunnel_errors_total{code="REFUSED_STREAM"}')).toBe(0);
    expect(gw.stats().streamsTotal).toBe(total);
  });

  it("one stream over the limit is refused alone (REFUSED_STREAM, counted); the socket and another socket keep working", async () => {
    const gw = await gateway({ maxStreamsPerSocket: 2 });
    const c = await connect(gw);
    const other = await connect(gw);
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    c.send(grpcHeaders(3, "/test.Raw/Hang"));
    c.send(grpcHeaders(5, "/test.Raw/Hang"));
    const rst = await c.next((f) => f.kind === "rst" && f.streamId === 5);
    expect(rst).toMatchObject({ code: ErrorCode.REFUSED_STREAM, message: "more than 2 concurrent streams; wait for one to end" });
    expect(await metric(gw, 'swtunnel_errors_total{code="REFUSED_STREAM"}')).toBe(1);
    await expectWorks(other);
    c.send({ kind: "rst", streamId: 1, code: ErrorCode.CANCEL, message: "done" });
    await expectWorks(c);
  });
});
