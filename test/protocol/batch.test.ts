/** protocol/batch.ts: the BATCH layout, its receiver checks, and how a sender packs frames. */
import { describe, expect, it } from "vitest";
import {
  BATCH_ENTRY_OVERHEAD,
  ErrorCode,
  FrameType,
  ProtocolError,
  batchesInUse,
  decodeFrame,
  encodeBatch,
  encodeFrame,
  packFrames,
  splitBatch,
} from "../../protocol/index.js";

const data = (id: number, n: number) => encodeFrame({ kind: "data", streamId: id, endStream: false, data: new Uint8Array(n).fill(id) });
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof ProtocolError ? e.code : e;
  }
  return undefined;
};

describe("BATCH", () => {
  it("is in use only when both ends announced FRAME_BATCHES = 1", () => {
    expect(batchesInUse({ frameBatches: 1 }, { frameBatches: 1 })).toBe(true);
    expect(batchesInUse({ frameBatches: 1 }, { frameBatches: 0 })).toBe(false);
    expect(batchesInUse({ frameBatches: 0 }, { frameBatches: 1 })).toBe(false);
    expect(batchesInUse({ frameBatches: 1 }, null)).toBe(false);
  });

  it("carries frames whole and in order: header, then u32 length + frame per entry", () => {
    const frames = [data(1, 3), data(3, 0), encodeFrame({ kind: "ping", data: new Uint8Array(8) })];
    const batch = encodeBatch(frames);
    expect(Array.from(batch.subarray(0, 6))).toEqual([FrameType.BATCH, 0, 0, 0, 0, 0]);
    expect(new DataView(batch.buffer).getUint32(6)).toBe(frames[0]!.length);
    expect(batch.length).toBe(6 + frames.reduce((n, f) => n + BATCH_ENTRY_OVERHEAD + f.length, 0));
    expect(splitBatch(batch, 1 << 16)).toEqual(frames);
    expect(splitBatch(encodeBatch([]), 1 << 16)).toEqual([]);
  });

  it("refuses what docs/PROTOCOL.md 5.12 refuses, each with its code", () => {
    const ok = encodeBatch([data(1, 10)]);
    expect(codeOf(() => splitBatch(ok.subarray(0, 5), 1 << 16))).toBe(ErrorCode.FRAME_SIZE_ERROR); // shorter than a header
    expect(codeOf(() => splitBatch(Uint8Array.of(FrameType.BATCH, 1, 0, 0, 0, 0), 1 << 16))).toBe(ErrorCode.PROTOCOL_ERROR); // flags
    expect(codeOf(() => splitBatch(Uint8Array.of(FrameType.BATCH, 0, 0, 0, 0, 7), 1 << 16))).toBe(ErrorCode.PROTOCOL_ERROR); // stream id
    expect(codeOf(() => splitBatch(ok, 10))).toBe(ErrorCode.FRAME_SIZE_ERROR); // over MAX_FRAME_PAYLOAD
    expect(codeOf(() => splitBatch(ok.subarray(0, ok.length - 1), 1 << 16))).toBe(ErrorCode.FRAME_SIZE_ERROR); // runs past the end
    expect(codeOf(() => splitBatch(Uint8Array.of(FrameType.BATCH, 0, 0, 0, 0, 0, 0, 0), 1 << 16))).toBe(ErrorCode.FRAME_SIZE_ERROR); // no room for a length
    expect(codeOf(() => splitBatch(encodeBatch([Uint8Array.of(0, 0, 0)]), 1 << 16))).toBe(ErrorCode.FRAME_SIZE_ERROR); // under 6 bytes
    expect(codeOf(() => splitBatch(encodeBatch([encodeBatch([data(1, 1)])]), 1 << 16))).toBe(ErrorCode.PROTOCOL_ERROR); // nested
  });

  it("packs consecutive frames while the payload fits, and sends a lone frame as itself", () => {
    expect(packFrames([data(1, 5)], 1 << 16)).toEqual([{ message: data(1, 5), count: 1 }]);
    const frames = [data(1, 100), data(3, 100), data(5, 100)];
    const entry = BATCH_ENTRY_OVERHEAD + frames[0]!.length;
    // Room for two entries: the first two share a BATCH, the third goes alone.
    const packed = packFrames(frames, 2 * entry);
    expect(packed.map((p) => p.count)).toEqual([2, 1]);
    expect(splitBatch(packed[0]!.message, 2 * entry)).toEqual(frames.slice(0, 2));
    expect(packed[1]!.message).toEqual(frames[2]);
    // A frame too big to share goes alone, between batches of the others.
    const big = data(7, 500);
    expect(packFrames([frames[0]!, big, frames[1]!, frames[2]!], 2 * entry).map((p) => p.count)).toEqual([1, 1, 2]);
    expect(packFrames([], 1 << 16)).toEqual([]);
  });

  it("FRAME_BATCHES is 0 or 1 in SETTINGS", () => {
    const settings = (value: number) => {
      const bytes = new Uint8Array(12);
      bytes[0] = FrameType.SETTINGS;
      new DataView(bytes.buffer).setUint16(6, 0x7);
      new DataView(bytes.buffer).setUint32(8, value);
      return bytes;
    };
    expect(decodeFrame(settings(1), "client")).toEqual({ kind: "settings", settings: { frameBatches: 1 } });
    expect(codeOf(() => decodeFrame(settings(2), "client"))).toBe(ErrorCode.PROTOCOL_ERROR);
  });
});
