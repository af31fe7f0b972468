/**
 * BATCH (docs/PROTOCOL.md 5.12) at the real gateway over real `ws` sockets: packed only
 * for a client that announced FRAME_BATCHES, unpacked and handled frame by frame, a
 * malformed one a socket error that leaves other sockets working.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, FrameType, encodeBatch, encodeFrame, type Frame } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, envelope, grpcCall, grpcHeaders, header, startH2Backend, unenvelope, type H2Backend } from "./helpers.js";

let backend: H2Backend;
let gateway: Gateway;
beforeAll(async () => {
  backend = await startH2Backend();
  gateway = await createGateway({ upstream: backend.url, port: 0, logger: pino({ level: "silent" }) });
});
afterAll(async () => {
  await gateway.close(100);
  await backend.close();
});

const hello = new TextEncoder().encode("hello in one message");
const request = (id: number): Frame[] => [
  grpcHeaders(id, "/test.Raw/Echo"),
  { kind: "data", streamId: id, endStream: true, data: envelope(hello) },
];
const isBatchMessage = (m: Uint8Array) => m[0] === FrameType.BATCH;

describe("BATCH at the gateway", () => {
  it("a client that announced FRAME_BATCHES sends a call in one message and gets its answer packed", async () => {
    const client = await RawClient.connect(gateway.tunnelUrl, { settings: { frameBatches: 1 } });
    const before = client.messages.length;
    client.sendRaw(encodeBatch(request(1).map(encodeFrame)));
    const result = await client.collect(1);
    expect(unenvelope(result.body)).toEqual([hello]);
    expect(header(result.trailers, "grpc-status")).toBe("0");
    // HEADERS, DATA and TRAILERS of one turn: one message, fewer than the frames it held.
    const answer = client.messages.slice(before);
    expect(answer.some(isBatchMessage)).toBe(true);
    expect(answer.length).toBeLessThan(3);
    client.close();
  });

  it("never sends a BATCH to a client that did not announce it, and ignores its type-0x9 frames as extensions", async () => {
    const client = await RawClient.connect(gateway.tunnelUrl);
    client.sendRaw(encodeBatch(request(1).map(encodeFrame))); // a v1 extension frame to this gateway: ignored
    const result = await grpcCall(client, 3, "/test.Raw/Echo", hello);
    expect(unenvelope(result.body)).toEqual([hello]);
    expect(client.frames.some((f) => f.kind === "response-headers" && f.streamId === 1)).toBe(false);
    expect(client.messages.some(isBatchMessage)).toBe(false);
    client.close();
  });

  it.each([
    ["an entry that runs past the end", () => Uint8Array.of(FrameType.BATCH, 0, 0, 0, 0, 0, 0, 0, 0, 99, 1, 2), ErrorCode.FRAME_SIZE_ERROR],
    ["a BATCH inside a BATCH", () => encodeBatch([encodeBatch([])]), ErrorCode.PROTOCOL_ERROR],
    ["a stream id on the BATCH", () => Uint8Array.of(FrameType.BATCH, 0, 0, 0, 0, 1), ErrorCode.PROTOCOL_ERROR],
  ])("%s: GOAWAY with its code, and another socket keeps working", async (_name, make, code) => {
    const bad = await RawClient.connect(gateway.tunnelUrl, { settings: { frameBatches: 1 } });
    const good = await RawClient.connect(gateway.tunnelUrl, { settings: { frameBatches: 1 } });
    bad.sendRaw(make());
    const goaway = await bad.next((f) => f.kind === "goaway");
    expect(goaway.kind === "goaway" && goaway.code).toBe(code);
    await bad.closed;
    const result = await grpcCall(good, 1, "/test.Raw/Echo", hello);
    expect(unenvelope(result.body)).toEqual([hello]);
    good.close();
  });

  it("a bad frame inside a BATCH has the effect it has alone: a stream error, then the next frames still run", async () => {
    const client = await RawClient.connect(gateway.tunnelUrl, { settings: { frameBatches: 1 } });
    const badHead = encodeFrame(grpcHeaders(1, "/test.Raw/Echo", true, [["grpc-timeout", "soon"]])); // malformed: a stream error
    client.sendRaw(encodeBatch([badHead, ...request(3).map(encodeFrame)]));
    const rst = await client.next((f) => f.kind === "rst" && f.streamId === 1);
    expect(rst.kind === "rst" && rst.code).toBe(ErrorCode.PROTOCOL_ERROR);
    const result = await client.collect(3);
    expect(unenvelope(result.body)).toEqual([hello]);
    client.close();
  });
});
