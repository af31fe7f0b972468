/**
 * The points docs/PROTOCOL.md settles for independent implementations, each as the
 * gateway behaves: stream id gaps, a second HEADERS, the order of checks, a client GOAWAY,
 * RST_STREAM NO_ERROR, what a "message" is for the size limit, and when a stream stops
 * counting toward MAX_CONCURRENT_STREAMS.
 */
import { pino } from "pino";
import { WebSocket } from "ws";
import { createTunnelClient } from "../../client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, FrameType } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, envelope, grpcCall, grpcHeaders, header, startH2Backend, unenvelope, until, type H2Backend } from "./helpers.js";

const silent = pino({ level: "silent" });
let backend: H2Backend;
let gateway: Gateway;

beforeAll(async () => {
  backend = await startH2Backend();
  gateway = await createGateway({ upstream: backend.url, port: 0, logger: silent, maxMessageBytes: 1000 });
});
afterAll(async () => {
  await gateway.close(100);
  await backend.close();
});

async function echoWorks(c: RawClient, id: number): Promise<void> {
  const r = await grpcCall(c, id, "/test.Raw/Echo", new Uint8Array([id & 0xff]));
  expect(header(r.trailers, "grpc-status")).toBe("0");
}

/** A frame header + payload, for frames the encoder refuses to build. */
function rawFrame(type: number, streamId: number, payload: number[]): Uint8Array {
  const out = new Uint8Array(6 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(2, streamId);
  out.set(payload, 6);
  return out;
}

describe("stream ids (session rule 3)", () => {
  it("may skip: any id above every id seen opens a stream; frames for a skipped id are ignored", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    await echoWorks(c, 1);
    await echoWorks(c, 9); // 3, 5, 7 skipped
    c.send({ kind: "data", streamId: 5, endStream: true, data: new Uint8Array(10) }); // at or below the highest id: ignored
    await echoWorks(c, 11);
    expect(c.closeCode).toBeUndefined();
    c.close();
  });

  it("a second HEADERS on a stream that is still open is a socket error PROTOCOL_ERROR", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    const goaway = await c.next((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR, lastStreamId: 1 });
    await c.closed; // the WebSocket close code carries no meaning (section 3)
  });
});

describe("order of checks", () => {
  it("a malformed frame for an open stream is a stream error; for a forgotten id ignored; above the highest id a socket error", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    await echoWorks(c, 3);
    // WINDOW_UPDATE with increment 0 breaks a section 5 rule (a stream error).
    c.sendRaw(rawFrame(FrameType.WINDOW_UPDATE, 1, [0, 0, 0, 0]));
    expect(await c.next((f) => f.kind === "rst")).toMatchObject({ streamId: 1, code: ErrorCode.PROTOCOL_ERROR });
    c.sendRaw(rawFrame(FrameType.WINDOW_UPDATE, 3, [0, 0, 0, 0])); // stream 3 ended: dropped
    await echoWorks(c, 5);
    c.sendRaw(rawFrame(FrameType.WINDOW_UPDATE, 99, [0, 0, 0, 0])); // never opened: rule 4 wins over section 5
    expect(await c.next((f) => f.kind === "goaway")).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR, lastStreamId: 5 });
  });

  it("a malformed request HEADERS with a new id: RST_STREAM; with a used id: GOAWAY (rule 3 first)", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    const badMethod = [3, 0x67, 0x65, 0x74, 0, 1, 0x2f, 0, 0]; // method "get", path "/", no headers
    c.sendRaw(rawFrame(FrameType.HEADERS, 1, badMethod));
    expect(await c.next((f) => f.kind === "rst")).toMatchObject({ streamId: 1, code: ErrorCode.PROTOCOL_ERROR });
    await echoWorks(c, 3);
    c.sendRaw(rawFrame(FrameType.HEADERS, 3, badMethod));
    expect(await c.next((f) => f.kind === "goaway")).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR, lastStreamId: 3 });
  });
});

describe("client GOAWAY", () => {
  it("is informational: open streams finish and new streams are still served until the client closes", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Echo"));
    c.send({ kind: "goaway", lastStreamId: 0, code: ErrorCode.NO_ERROR, message: "client leaving" });
    c.send({ kind: "data", streamId: 1, endStream: true, data: envelope(new Uint8Array([1])) });
    const r = await c.collect(1);
    expect(header(r.trailers, "grpc-status")).toBe("0");
    await echoWorks(c, 3);
    expect(c.frames.some((f) => f.kind === "goaway")).toBe(false);
    c.close();
  });
});

describe("RST_STREAM NO_ERROR", () => {
  it("from the gateway: the response is complete while the request half is open; stop sending, the call succeeded", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    c.send(grpcHeaders(1, "/test.Raw/Headers", false, [["x-echo", "early"]])); // answers without reading the request
    const r = await c.collect(1);
    expect(header(r.headers, "x-echo")).toBe("early");
    expect(header(r.trailers, "grpc-status")).toBe("0");
    expect(await c.next((f) => f.kind === "rst")).toMatchObject({ streamId: 1, code: ErrorCode.NO_ERROR, message: "response complete" });
    c.send({ kind: "data", streamId: 1, endStream: true, data: new Uint8Array(3) }); // raced the reset: ignored
    await echoWorks(c, 3);
    c.close();
  });

  it("the Node tunnel client takes such a response as a success and stops sending", async () => {
    const tunnel = createTunnelClient({ url: gateway.tunnelUrl, WebSocket });
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++;
        yield envelope(new Uint8Array(10));
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    try {
      const res = await tunnel.request({
        method: "POST",
        path: "/test.Raw/Headers",
        headers: [
          ["content-type", "application/grpc"],
          ["x-echo", "early"],
        ],
        body: endless(),
      });
      for await (const _ of res.body) void _;
      expect(header(res.headers, "x-echo")).toBe("early");
      expect(header(res.trailers(), "grpc-status")).toBe("0");
      const after = pulled;
      const other = await RawClient.connect(gateway.tunnelUrl); // a round trip elsewhere: time for more pulls, were there any
      await echoWorks(other, 1);
      other.close();
      expect(pulled).toBeLessThanOrEqual(after + 1); // the body is no longer pulled
    } finally {
      tunnel.close();
    }
  });

  it("from the client: cancels the stream like any reset; the upstream call is cancelled", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    const seen = backend.seen.length;
    const cancelled = backend.cancelled;
    c.send(grpcHeaders(1, "/test.Raw/Hang"));
    await until(() => backend.seen.length > seen, "the backend to see the call");
    c.send({ kind: "rst", streamId: 1, code: ErrorCode.NO_ERROR, message: "done" });
    await until(() => backend.cancelled > cancelled, "the upstream stream to be cancelled");
    await echoWorks(c, 3);
    c.close();
  });
});

describe("MAX_MESSAGE_BYTES counts one message, not a body", () => {
  it("enveloped: each message's declared payload length (prefix excluded); several messages may exceed it together", async () => {
    const c = await RawClient.connect(gateway.tunnelUrl);
    const m = new Uint8Array(1000).fill(4); // exactly the limit, three times
    c.send(grpcHeaders(1, "/test.Raw/Echo"));
    c.send({ kind: "data", streamId: 1, endStream: true, data: new Uint8Array(Buffer.concat([envelope(m), envelope(m), envelope(m)])) });
    const r = await c.collect(1);
    expect(header(r.trailers, "grpc-status")).toBe("0");
    expect(unenvelope(r.body)).toEqual([m, m, m]);
    c.close();
  });
});

describe("when a stream stops counting toward MAX_CONCURRENT_STREAMS", () => {
  it("the moment the gateway sends or receives its last frame: TRAILERS, RST_STREAM either way", async () => {
    const gw = await createGateway({ upstream: backend.url, port: 0, logger: silent, maxStreamsPerSocket: 1 });
    try {
      const c = await RawClient.connect(gw.tunnelUrl);
      c.send(grpcHeaders(1, "/test.Raw/Hang"));
      c.send(grpcHeaders(3, "/test.Raw/Hang"));
      expect((await c.collect(3)).rst?.code).toBe(ErrorCode.REFUSED_STREAM); // 1 still counts
      c.send({ kind: "rst", streamId: 1, code: ErrorCode.CANCEL, message: "" });
      await echoWorks(c, 5); // the client's reset freed the slot at once; the trailers free it again
      c.send(grpcHeaders(7, "/test.Raw/Headers")); // completes, then RST NO_ERROR while the request is open
      await c.collect(7);
      await c.next((f) => f.kind === "rst" && f.streamId === 7);
      await echoWorks(c, 9);
      c.close();
    } finally {
      await gw.close(100);
    }
  });
});
