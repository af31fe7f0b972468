/**
 * The client session packs frames into BATCH messages only for a gateway that announced
 * FRAME_BATCHES, and unpacks the gateway's: against a real `ws` server that speaks just
 * enough of the protocol, recording every message as it arrives.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { createTunnelClient } from "../../client/index.js";
import {
  ErrorCode,
  FrameType,
  SUBPROTOCOL,
  decodeFrame,
  encodeBatch,
  encodeFrame,
  isBatch,
  splitBatch,
  type Frame,
} from "../../protocol/index.js";

let server: WebSocketServer | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A gateway stand-in announcing `frameBatches`; answers each request with HEADERS, DATA and TRAILERS in one BATCH (or three messages). */
async function start(frameBatches: 0 | 1, malformedAnswer?: Uint8Array) {
  const messages: Uint8Array[] = [];
  server = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: () => SUBPROTOCOL });
  server.on("connection", (ws) => {
    ws.send(encodeFrame({ kind: "settings", settings: { frameBatches } }));
    let batching = false; // once the client's SETTINGS announced FRAME_BATCHES too
    let first = true; // this socket's first message is the client's SETTINGS
    ws.on("message", (data: Buffer) => {
      const bytes = new Uint8Array(data);
      messages.push(bytes);
      if (first) {
        first = false;
        const settings = decodeFrame(bytes, "client");
        batching = frameBatches === 1 && settings.kind === "settings" && settings.settings.frameBatches === 1;
        return;
      }
      const frames =
        batching && isBatch(bytes) ? splitBatch(bytes, 1 << 16).map((f) => decodeFrame(f, "client")) : [decodeFrame(bytes, "client")];
      for (const f of frames) {
        if (f.kind !== "data" || !f.endStream) continue;
        if (malformedAnswer) {
          ws.send(malformedAnswer);
          continue;
        }
        const answer: Frame[] = [
          {
            kind: "response-headers",
            streamId: f.streamId,
            endStream: false,
            status: 200,
            headers: [["content-type", "application/proto"]],
          },
          { kind: "data", streamId: f.streamId, endStream: false, data: Uint8Array.of(1, 2, 3) },
          { kind: "trailers", streamId: f.streamId, trailers: [["x-end", "yes"]] },
        ];
        if (batching) ws.send(encodeBatch(answer.map(encodeFrame)));
        else for (const a of answer) ws.send(encodeFrame(a));
      }
    });
  });
  await new Promise((resolve) => server!.once("listening", resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/tunnel`;
  return { messages, url };
}

async function call(url: string, batchFrames?: boolean) {
  const client = createTunnelClient({ url, WebSocket, batchFrames });
  try {
    const res = await client.request({
      method: "POST",
      path: "/svc/M",
      headers: [["content-type", "application/proto"]],
      body: Uint8Array.of(9, 9),
    });
    const body: number[] = [];
    for await (const chunk of res.body) body.push(...chunk);
    return { body, trailers: res.trailers() };
  } finally {
    client.close();
  }
}

describe("client session: BATCH", () => {
  it("to a gateway that announced FRAME_BATCHES, a call's HEADERS and DATA go as one message; a packed answer is read", async () => {
    const { messages, url } = await start(1);
    expect(await call(url)).toEqual({ body: [1, 2, 3], trailers: [["x-end", "yes"]] });
    const afterSettings = messages.slice(1).filter((m) => m[0] !== FrameType.GOAWAY);
    expect(afterSettings).toHaveLength(1);
    expect(splitBatch(afterSettings[0]!, 1 << 16).map((f) => decodeFrame(f, "client").kind)).toEqual(["request-headers", "data"]);
  });

  it("with batchFrames: false, the client does not announce FRAME_BATCHES and sends every frame alone", async () => {
    const { messages, url } = await start(1);
    await call(url, false);
    const settings = decodeFrame(messages[0]!, "client");
    expect(settings.kind === "settings" && settings.settings.frameBatches).toBe(0);
    expect(messages.slice(1, 3).map((m) => decodeFrame(m, "client").kind)).toEqual(["request-headers", "data"]);
  });

  it("to a gateway that did not, every frame is a message of its own", async () => {
    const { messages, url } = await start(0);
    expect(await call(url)).toEqual({ body: [1, 2, 3], trailers: [["x-end", "yes"]] });
    expect(messages.some((m) => m[0] === FrameType.BATCH)).toBe(false);
    expect(messages.slice(1, 3).map((m) => decodeFrame(m, "client").kind)).toEqual(["request-headers", "data"]);
  });

  it("a malformed BATCH from the gateway fails the call with a clear error and a GOAWAY naming the fault; the next call reconnects", async () => {
    // One entry whose length (99) runs past the end of the message.
    const { messages, url } = await start(1, Uint8Array.of(FrameType.BATCH, 0, 0, 0, 0, 0, 0, 0, 0, 99, 1, 2));
    const client = createTunnelClient({ url, WebSocket, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    try {
      const request = () => client.request({ method: "POST", path: "/svc/M", headers: [], body: Uint8Array.of(1) });
      await expect(request()).rejects.toThrow(/BATCH entry at byte 6 of 99 bytes/);
      await expect
        .poll(() => messages.map((m) => (isBatch(m) ? undefined : decodeFrame(m, "client"))).find((f) => f?.kind === "goaway"))
        .toMatchObject({ kind: "goaway", code: ErrorCode.FRAME_SIZE_ERROR });
      // A new socket for the next call (which meets the same fault here).
      await expect(request()).rejects.toThrow(/BATCH entry/);
      expect(client.stats().reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }
  });
});
