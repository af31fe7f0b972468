import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  ErrorCode,
  MAX_MAX_FRAME_PAYLOAD,
  MAX_STREAM_ID,
  MAX_WINDOW,
  MIN_MAX_FRAME_PAYLOAD,
  ProtocolError,
  decodeFrame,
  encodeFrame,
  type DecodeLimits,
  type Frame,
  type HeaderList,
  type Peer,
} from "../../protocol/index.js";

const RUNS = 50_000;
let cases = 0;
afterAll(() => {
  // CI output shows how much was generated.
  console.log(`property cases: ${cases}`);
});

// ---- arbitraries for valid frames -------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const streamId = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: MAX_STREAM_ID }));
const streamIdOrZero = fc.oneof(fc.constant(0), streamId);
const bytes = fc.uint8Array({ maxLength: 96 });
// Valid Unicode only: lone surrogates cannot survive UTF-8 and are not valid text anyway.
const text = fc.string({
  unit: fc.oneof(fc.constant("\uFEFF"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })),
  maxLength: 24,
});
const TCHAR = [..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"];
const headerName = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 24 });
const headerValue = text.map((s) => s.replace(/[\0\r\n]/g, ""));
const headerList: fc.Arbitrary<HeaderList> = fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 });
const method = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ"), minLength: 1, maxLength: 16 });
const PATH_CHARS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
const path = fc.string({ unit: fc.constantFrom(...PATH_CHARS), maxLength: 48 }).map((s) => `/${s}`);

const settings = fc.record(
  {
    version: fc.integer({ min: 1, max: 0xffffffff }),
    maxConcurrentStreams: u32,
    initialStreamWindow: fc.integer({ min: 0, max: MAX_WINDOW }),
    initialConnectionWindow: fc.integer({ min: 0, max: MAX_WINDOW }),
    maxFramePayload: fc.integer({ min: MIN_MAX_FRAME_PAYLOAD, max: MAX_MAX_FRAME_PAYLOAD }),
    pingIntervalMs: u32,
  },
  { requiredKeys: [] },
);

const anyPeer = fc.constantFrom<Peer>("client", "server");
/** A valid frame and a peer allowed to send it. */
const validFrame: fc.Arbitrary<{ frame: Frame; from: Peer }> = fc.oneof(
  fc.record({ frame: fc.record({ kind: fc.constant("data" as const), streamId, endStream: fc.boolean(), data: bytes }), from: anyPeer }),
  fc.record({
    frame: fc.record({
      kind: fc.constant("request-headers" as const),
      streamId,
      endStream: fc.boolean(),
      method,
      path,
      headers: headerList,
    }),
    from: fc.constant<Peer>("client"),
  }),
  fc.record({
    frame: fc.record({
      kind: fc.constant("response-headers" as const),
      streamId,
      endStream: fc.boolean(),
      status: fc.integer({ min: 100, max: 599 }),
      headers: headerList,
    }),
    from: fc.constant<Peer>("server"),
  }),
  fc.record({
    frame: fc.record({ kind: fc.constant("trailers" as const), streamId, trailers: headerList }),
    from: fc.constant<Peer>("server"),
  }),
  fc.record({ frame: fc.record({ kind: fc.constant("rst" as const), streamId, code: u32, message: text }), from: anyPeer }),
  fc.record({ frame: fc.record({ kind: fc.constant("settings" as const), settings }), from: anyPeer }),
  fc.record({
    frame: fc.record({
      kind: fc.constant("window-update" as const),
      streamId: streamIdOrZero,
      increment: fc.integer({ min: 1, max: MAX_WINDOW }),
    }),
    from: anyPeer,
  }),
  fc.record({
    frame: fc.record({ kind: fc.constantFrom("ping" as const, "pong" as const), data: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
    from: anyPeer,
  }),
  fc.record({
    frame: fc.record({ kind: fc.constant("goaway" as const), lastStreamId: streamIdOrZero, code: u32, message: text }),
    from: anyPeer,
  }),
  fc.record({
    frame: fc.record({
      kind: fc.constant("unknown" as const),
      type: fc.integer({ min: 0x09, max: 0xff }),
      flags: fc.integer({ min: 0, max: 0xff }),
      streamId: streamIdOrZero,
      payload: bytes,
    }),
    from: anyPeer,
  }),
);

// ---- arbitraries for hostile input ------------------------------------------------------

type Mutation =
  | { op: "truncate"; at: number }
  | { op: "flip"; bits: number[] }
  | { op: "overwrite"; at: number; value: number; width: 1 | 2 | 4 }
  | { op: "append"; extra: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("flip" as const), bits: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }),
  // Length fields are u8/u16/u32: hit them with boundary values as often as random ones.
  fc.record({
    op: fc.constant("overwrite" as const),
    at: fc.nat(),
    value: fc.oneof(u32, fc.constantFrom(0, 1, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff)),
    width: fc.constantFrom<1 | 2 | 4>(1, 2, 4),
  }),
  fc.record({ op: fc.constant("append" as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const out = Uint8Array.from(input);
  switch (m.op) {
    case "truncate":
      return out.subarray(0, m.at % (out.length + 1));
    case "flip":
      for (const b of m.bits) out[(b >>> 3) % out.length]! ^= 1 << (b & 7);
      return out;
    case "overwrite": {
      const at = m.at % out.length;
      for (let i = 0; i < m.width && at + i < out.length; i++) out[at + i] = (m.value >>> (8 * (m.width - 1 - i))) & 0xff;
      return out;
    }
    case "append": {
      const longer = new Uint8Array(out.length + m.extra.length);
      longer.set(out);
      longer.set(m.extra, out.length);
      return longer;
    }
  }
}

/** A frame with a plausible header (known or nearby type, small stream id) and junk payload. */
const plausible = fc
  .tuple(
    fc.integer({ min: 0, max: 12 }),
    fc.integer({ min: 0, max: 0xff }),
    fc.constantFrom(0, 1, 3, 0x7fffffff, 0x80000001),
    fc.uint8Array({ maxLength: 300 }),
  )
  .map(([type, flags, id, payload]) => {
    const out = new Uint8Array(6 + payload.length);
    new DataView(out.buffer).setUint32(2, id);
    out[0] = type;
    out[1] = flags;
    out.set(payload, 6);
    return out;
  });

const hostile: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  plausible,
  fc
    .tuple(validFrame, fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([{ frame }, ms]) => ms.reduce((b, m) => (b.length === 0 ? b : mutate(b, m)), encodeFrame(frame))),
);

const LIMITS: DecodeLimits[] = [
  { maxFramePayload: 64 << 10, maxHeaderBlockBytes: 64 << 10 },
  { maxFramePayload: 200, maxHeaderBlockBytes: 40 },
];
const CODES = new Set<number>(Object.values(ErrorCode));

describe("protocol properties", () => {
  it(`every valid frame decodes to itself (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(validFrame, ({ frame, from }) => {
        cases++;
        const decoded = decodeFrame(encodeFrame(frame), from);
        expect(decoded).toEqual(frame);
      }),
      { numRuns: RUNS },
    );
  });

  it(`any bytes decode to a frame or a ProtocolError, for both peers (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(hostile, (message) => {
        cases++;
        for (const from of ["client", "server"] as const) {
          for (const limits of LIMITS) {
            let frame: Frame;
            try {
              frame = decodeFrame(message, from, limits);
            } catch (e) {
              if (!(e instanceof ProtocolError)) throw new Error(`decodeFrame threw a non-ProtocolError: ${String(e)}`);
              expect(CODES.has(e.code)).toBe(true);
              // A stream error names the frame's own stream.
              if (e.streamId !== 0) expect(e.streamId).toBe(new DataView(message.buffer, message.byteOffset).getUint32(2));
              continue;
            }
            // Whatever decodes is a frame the encoder accepts and that decodes the same again.
            expect(decodeFrame(encodeFrame(frame), from, limits)).toEqual(frame);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
