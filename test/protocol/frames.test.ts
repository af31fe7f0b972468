import { describe, expect, it } from "vitest";
import {
  DEFAULT_DECODE_LIMITS,
  DEFAULT_SETTINGS,
  ErrorCode,
  FrameType,
  MAX_MAX_FRAME_PAYLOAD,
  MAX_WINDOW,
  MIN_MAX_FRAME_PAYLOAD,
  SettingId,
  decodeFrame,
  encodeFrame,
  encodeHeaderBlock,
  resolveSettings,
  type Frame,
  type Peer,
} from "../../protocol/index.js";
import { bytesOf, entry, expectProtocolError, rawFrame, u16, u32 } from "./helpers.js";

const roundTrip = (frame: Frame, from: Peer) => decodeFrame(encodeFrame(frame), from);

describe("frame round trip", () => {
  const cases: Array<[string, Peer, Frame]> = [
    ["data", "client", { kind: "data", streamId: 1, endStream: false, data: Uint8Array.of(1, 2, 3) }],
    ["data END_STREAM", "server", { kind: "data", streamId: 0x7fffffff, endStream: true, data: Uint8Array.of(0xff) }],
    ["empty data END_STREAM", "client", { kind: "data", streamId: 7, endStream: true, data: new Uint8Array(0) }],
    [
      "request-headers",
      "client",
      {
        kind: "request-headers",
        streamId: 3,
        endStream: false,
        method: "POST",
        path: "/connectrpc.eliza.v1.ElizaService/Say?x=1&y=%20",
        headers: [
          ["content-type", "application/proto"],
          ["x-a", "1"],
          ["x-a", "2"],
        ],
      },
    ],
    [
      "request-headers END_STREAM, no headers",
      "client",
      { kind: "request-headers", streamId: 1, endStream: true, method: "GET", path: "/", headers: [] },
    ],
    [
      "response-headers",
      "server",
      { kind: "response-headers", streamId: 3, endStream: false, status: 200, headers: [["content-type", "application/grpc"]] },
    ],
    [
      "response-headers trailers-only",
      "server",
      { kind: "response-headers", streamId: 3, endStream: true, status: 599, headers: [["grpc-status", "5"]] },
    ],
    ["response-headers status 100", "server", { kind: "response-headers", streamId: 9, endStream: false, status: 100, headers: [] }],
    [
      "trailers",
      "server",
      {
        kind: "trailers",
        streamId: 5,
        trailers: [
          ["grpc-status", "0"],
          ["grpc-message", "h\u00e9llo w\u00f6rld \u{1F600}"],
        ],
      },
    ],
    ["empty trailers", "server", { kind: "trailers", streamId: 5, trailers: [] }],
    ["rst", "client", { kind: "rst", streamId: 11, code: ErrorCode.CANCEL, message: "caller aborted" }],
    ["rst unknown code, empty message", "server", { kind: "rst", streamId: 11, code: 0xffffffff, message: "" }],
    ["settings full", "server", { kind: "settings", settings: { ...DEFAULT_SETTINGS } }],
    ["settings partial", "client", { kind: "settings", settings: { version: 1, maxConcurrentStreams: 0, pingIntervalMs: 0 } }],
    ["settings empty", "client", { kind: "settings", settings: {} }],
    [
      "settings at the bounds",
      "server",
      {
        kind: "settings",
        settings: {
          version: 0xffffffff,
          maxConcurrentStreams: 0xffffffff,
          initialStreamWindow: MAX_WINDOW,
          initialConnectionWindow: 0,
          maxFramePayload: MIN_MAX_FRAME_PAYLOAD,
          pingIntervalMs: 0xffffffff,
        },
      },
    ],
    ["window-update stream", "client", { kind: "window-update", streamId: 5, increment: 1 }],
    ["window-update socket", "server", { kind: "window-update", streamId: 0, increment: MAX_WINDOW }],
    ["ping", "server", { kind: "ping", data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }],
    ["pong", "client", { kind: "pong", data: Uint8Array.of(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff) }],
    ["goaway", "server", { kind: "goaway", lastStreamId: 41, code: ErrorCode.NO_ERROR, message: "draining" }],
    ["goaway last id 0", "server", { kind: "goaway", lastStreamId: 0, code: ErrorCode.UNSUPPORTED_VERSION, message: "speaks versions: 1" }],
    ["unknown extension type", "client", { kind: "unknown", type: 0x09, flags: 0xfe, streamId: 12, payload: Uint8Array.of(9, 9) }],
    [
      "unknown extension type 0xff on stream 0",
      "server",
      { kind: "unknown", type: 0xff, flags: 0, streamId: 0, payload: new Uint8Array(0) },
    ],
  ];
  for (const [name, from, frame] of cases) {
    it(`${name} (from ${from})`, () => {
      expect(roundTrip(frame, from)).toEqual(frame);
    });
  }

  it("writes the fixed header big-endian: type, flags, stream id", () => {
    const bytes = encodeFrame({ kind: "data", streamId: 0x01020304, endStream: true, data: Uint8Array.of(0xaa) });
    expect(Array.from(bytes)).toEqual([0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0xaa]);
  });

  it("writes SETTINGS in id order, 6 bytes each", () => {
    const bytes = encodeFrame({ kind: "settings", settings: { pingIntervalMs: 5, version: 1 } });
    expect(Array.from(bytes)).toEqual([FrameType.SETTINGS, 0, 0, 0, 0, 0, ...u16(1), ...u32(1), ...u16(6), ...u32(5)]);
  });

  it("decodes frames inside a larger buffer (non-zero byteOffset)", () => {
    const inner = encodeFrame({ kind: "response-headers", streamId: 2, endStream: false, status: 204, headers: [["a", "b"]] });
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 5);
    expect(decodeFrame(outer.subarray(5, 5 + inner.length), "server")).toEqual({
      kind: "response-headers",
      streamId: 2,
      endStream: false,
      status: 204,
      headers: [["a", "b"]],
    });
  });

  it("ignores undefined flag bits on known types", () => {
    const bytes = encodeFrame({ kind: "data", streamId: 1, endStream: false, data: Uint8Array.of(1) });
    bytes[1] = 0xfe;
    expect(decodeFrame(bytes, "client")).toMatchObject({ kind: "data", endStream: false });
    bytes[1] = 0xff;
    expect(decodeFrame(bytes, "client")).toMatchObject({ kind: "data", endStream: true });
  });

  it("ignores unknown setting ids and keeps the known ones", () => {
    const payload = bytesOf(u16(0x99), u32(123), u16(SettingId.MAX_FRAME_PAYLOAD), u32(20_000), u16(0), u32(0xffffffff));
    expect(decodeFrame(rawFrame(FrameType.SETTINGS, 0, 0, payload), "client")).toEqual({
      kind: "settings",
      settings: { maxFramePayload: 20_000 },
    });
  });

  it("reads a repeated setting id as its last value", () => {
    const payload = bytesOf(u16(SettingId.PING_INTERVAL_MS), u32(1), u16(SettingId.PING_INTERVAL_MS), u32(2));
    expect(decodeFrame(rawFrame(FrameType.SETTINGS, 0, 0, payload), "client")).toEqual({
      kind: "settings",
      settings: { pingIntervalMs: 2 },
    });
  });

  it("resolveSettings fills what a SETTINGS frame leaves out with the defaults", () => {
    expect(resolveSettings({ maxFramePayload: 20_000 })).toEqual({ ...DEFAULT_SETTINGS, maxFramePayload: 20_000 });
    expect(resolveSettings({})).toEqual(DEFAULT_SETTINGS);
  });

  it("replaces non-UTF-8 RST_STREAM and GOAWAY messages instead of failing", () => {
    expect(decodeFrame(rawFrame(FrameType.RST_STREAM, 0, 1, bytesOf(u32(8), 0xff)), "client")).toEqual({
      kind: "rst",
      streamId: 1,
      code: 8,
      message: "(message is not UTF-8)",
    });
    expect(decodeFrame(rawFrame(FrameType.GOAWAY, 0, 0, bytesOf(u32(3), u32(0), 0xc3)), "server")).toMatchObject({
      kind: "goaway",
      lastStreamId: 3,
      message: "(message is not UTF-8)",
    });
  });

  it("keeps a leading U+FEFF in text (no BOM stripping)", () => {
    const rst: Frame = { kind: "rst", streamId: 1, code: 2, message: "\uFEFFx" };
    expect(roundTrip(rst, "server")).toEqual(rst);
    const hdr: Frame = { kind: "trailers", streamId: 1, trailers: [["x", "\uFEFF"]] };
    expect(roundTrip(hdr, "server")).toEqual(hdr);
  });

  it("accepts a payload exactly at maxFramePayload", () => {
    const max = DEFAULT_DECODE_LIMITS.maxFramePayload;
    expect(decodeFrame(rawFrame(FrameType.DATA, 0, 1, new Uint8Array(max)), "client")).toMatchObject({ kind: "data" });
  });
});

describe("decodeFrame rejects", () => {
  const requestHead = (method: ArrayLike<number>, path: ArrayLike<number>, block: ArrayLike<number> = u16(0)) =>
    bytesOf(method.length, method, u16(path.length), path, block);

  it("a message shorter than the 6-byte header (FRAME_SIZE_ERROR)", () => {
    for (let n = 0; n < 6; n++) expectProtocolError(() => decodeFrame(new Uint8Array(n), "client"), ErrorCode.FRAME_SIZE_ERROR);
  });

  it("the reserved stream id bit (PROTOCOL_ERROR), on every frame type", () => {
    for (const type of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xff]) {
      expectProtocolError(() => decodeFrame(rawFrame(type, 0, 0x80000001), "server"), ErrorCode.PROTOCOL_ERROR);
      expectProtocolError(() => decodeFrame(rawFrame(type, 0, 0x80000000), "server"), ErrorCode.PROTOCOL_ERROR);
    }
  });

  it("a payload over maxFramePayload (FRAME_SIZE_ERROR for the socket), unknown types too", () => {
    const limits = { maxFramePayload: 10, maxHeaderBlockBytes: 100 };
    for (const type of [FrameType.DATA, FrameType.HEADERS, FrameType.SETTINGS, 0x42]) {
      expectProtocolError(() => decodeFrame(rawFrame(type, 0, 1, new Uint8Array(11)), "client", limits), ErrorCode.FRAME_SIZE_ERROR, 0);
    }
    expect(decodeFrame(rawFrame(FrameType.DATA, 0, 1, new Uint8Array(10)), "client", limits)).toMatchObject({ kind: "data" });
  });

  it("stream id 0 on frames that need a stream (PROTOCOL_ERROR for the socket)", () => {
    const payloads: Array<[number, Peer, Uint8Array]> = [
      [FrameType.DATA, "client", bytesOf(1)],
      [FrameType.HEADERS, "client", requestHead(bytesOf("GET"), bytesOf("/"))],
      [FrameType.HEADERS, "server", bytesOf(u16(200), u16(0))],
      [FrameType.TRAILERS, "server", bytesOf(u16(0))],
      [FrameType.RST_STREAM, "client", bytesOf(u32(8))],
    ];
    for (const [type, from, payload] of payloads) {
      expectProtocolError(() => decodeFrame(rawFrame(type, 0, 0, payload), from), ErrorCode.PROTOCOL_ERROR, 0);
    }
  });

  it("a stream id on frames that belong on stream 0 (PROTOCOL_ERROR for the socket)", () => {
    const payloads: Array<[number, Uint8Array]> = [
      [FrameType.SETTINGS, new Uint8Array(0)],
      [FrameType.PING, new Uint8Array(8)],
      [FrameType.PONG, new Uint8Array(8)],
      [FrameType.GOAWAY, new Uint8Array(8)],
    ];
    for (const [type, payload] of payloads) {
      expectProtocolError(() => decodeFrame(rawFrame(type, 0, 1, payload), "server"), ErrorCode.PROTOCOL_ERROR, 0);
    }
  });

  describe("request HEADERS (stream error, PROTOCOL_ERROR, with the stream id)", () => {
    const bad: Array<[string, Uint8Array]> = [
      ["empty payload", new Uint8Array(0)],
      ["method length but no method", bytesOf(3)],
      ["method without path length", bytesOf(3, "GET")],
      ["method with half a path length", bytesOf(3, "GET", 0)],
      ["path length past the frame", bytesOf(3, "GET", u16(5), "/ab")],
      ["empty method", requestHead([], bytesOf("/"))],
      ["lowercase method", requestHead(bytesOf("get"), bytesOf("/"))],
      ["method with a digit", requestHead(bytesOf("GET2"), bytesOf("/"))],
      ["method of 17 letters", requestHead(bytesOf("A".repeat(17)), bytesOf("/"))],
      ["method not UTF-8", requestHead([0xff, 0x47], bytesOf("/"))],
      ["method with a BOM prefix", requestHead([0xef, 0xbb, 0xbf, 0x47, 0x45, 0x54], bytesOf("/"))],
      ["empty path", requestHead(bytesOf("GET"), [])],
      ["path without leading slash", requestHead(bytesOf("GET"), bytesOf("a/b"))],
      ["path with a space", requestHead(bytesOf("GET"), bytesOf("/a b"))],
      ["path with DEL", requestHead(bytesOf("GET"), bytesOf("/a", 0x7f))],
      ["path with non-ASCII", requestHead(bytesOf("GET"), bytesOf("/\u00e9"))],
      ["path not UTF-8", requestHead(bytesOf("GET"), [0x2f, 0xff])],
      ["no header block", requestHead(bytesOf("GET"), bytesOf("/"), [])],
      ["bad header block", requestHead(bytesOf("GET"), bytesOf("/"), bytesOf(u16(1)))],
    ];
    for (const [name, payload] of bad) {
      it(name, () => {
        expectProtocolError(() => decodeFrame(rawFrame(FrameType.HEADERS, 0, 7, payload), "client"), ErrorCode.PROTOCOL_ERROR, 7);
      });
    }
    it("accepts a 16-letter method and every visible ASCII character in the path", () => {
      let path = "/";
      for (let c = 0x21; c <= 0x7e; c++) path += String.fromCharCode(c);
      const frame = decodeFrame(rawFrame(FrameType.HEADERS, 0, 7, requestHead(bytesOf("A".repeat(16)), bytesOf(path))), "client");
      expect(frame).toEqual({ kind: "request-headers", streamId: 7, endStream: false, method: "A".repeat(16), path, headers: [] });
    });
  });

  describe("response HEADERS (stream error, PROTOCOL_ERROR, with the stream id)", () => {
    const bad: Array<[string, Uint8Array]> = [
      ["empty payload", new Uint8Array(0)],
      ["one status byte", bytesOf(0)],
      ["status 99", bytesOf(u16(99), u16(0))],
      ["status 600", bytesOf(u16(600), u16(0))],
      ["status 0", bytesOf(u16(0), u16(0))],
      ["status 0xffff", bytesOf(u16(0xffff), u16(0))],
      ["no header block", bytesOf(u16(200))],
    ];
    for (const [name, payload] of bad) {
      it(name, () => {
        expectProtocolError(() => decodeFrame(rawFrame(FrameType.HEADERS, 0, 9, payload), "server"), ErrorCode.PROTOCOL_ERROR, 9);
      });
    }
  });

  describe("malformed header blocks (PROTOCOL_ERROR on the stream), in every frame that carries one", () => {
    const blocks: Array<[string, Uint8Array]> = [
      ["empty block", new Uint8Array(0)],
      ["half a count", bytesOf(0)],
      ["count larger than the entries", bytesOf(u16(2), entry("a", "b"))],
      ["truncated name length", bytesOf(u16(1), 0)],
      ["empty name", bytesOf(u16(1), entry("", "v"))],
      ["name length past the block", bytesOf(u16(1), u16(10), "abc")],
      ["uppercase name", bytesOf(u16(1), entry("Content-Type", "x"))],
      ["pseudo-header name", bytesOf(u16(1), entry(":path", "/"))],
      ["name with a space", bytesOf(u16(1), entry("a b", "x"))],
      ["name with a colon", bytesOf(u16(1), entry("a:b", "x"))],
      ["non-ASCII name", bytesOf(u16(1), entry("\u00e9", "x"))],
      ["name not UTF-8", bytesOf(u16(1), entry([0xff], "x"))],
      ["truncated value length", bytesOf(u16(1), u16(1), "a", 0, 0, 0)],
      ["value length past the block", bytesOf(u16(1), u16(1), "a", u32(4), "abc")],
      ["value length 2^32-1", bytesOf(u16(1), u16(1), "a", u32(0xffffffff), "abc")],
      ["CR in a value", bytesOf(u16(1), entry("a", "x\ry"))],
      ["LF in a value", bytesOf(u16(1), entry("a", "x\n"))],
      ["NUL in a value", bytesOf(u16(1), entry("a", "\0"))],
      ["value not UTF-8", bytesOf(u16(1), entry("a", [0x61, 0xc3, 0x28]))],
      ["value with a lone surrogate (CESU)", bytesOf(u16(1), entry("a", [0xed, 0xa0, 0x80]))],
      ["overlong UTF-8 in a value", bytesOf(u16(1), entry("a", [0xc0, 0xaf]))],
      ["trailing bytes after the last entry", bytesOf(u16(1), entry("a", "b"), 0)],
      ["trailing bytes after an empty list", bytesOf(u16(0), 0, 0)],
    ];
    for (const [name, block] of blocks) {
      it(name, () => {
        const req = bytesOf(4, "POST", u16(1), "/", block);
        expectProtocolError(() => decodeFrame(rawFrame(FrameType.HEADERS, 1, 3, req), "client"), ErrorCode.PROTOCOL_ERROR, 3);
        expectProtocolError(
          () => decodeFrame(rawFrame(FrameType.HEADERS, 0, 5, bytesOf(u16(200), block)), "server"),
          ErrorCode.PROTOCOL_ERROR,
          5,
        );
        expectProtocolError(() => decodeFrame(rawFrame(FrameType.TRAILERS, 0, 7, block), "server"), ErrorCode.PROTOCOL_ERROR, 7);
      });
    }
  });

  it("a header block over maxHeaderBlockBytes (HEADER_BLOCK_TOO_LARGE on the stream)", () => {
    const limits = { maxFramePayload: 1 << 20, maxHeaderBlockBytes: 100 };
    const fits = encodeHeaderBlock([["x", "y".repeat(100 - 2 - 2 - 1 - 4)]]);
    expect(fits.length).toBe(100);
    const over = encodeHeaderBlock([["x", "y".repeat(100 - 2 - 2 - 1 - 4 + 1)]]);
    const req = (block: Uint8Array) => rawFrame(FrameType.HEADERS, 0, 3, bytesOf(3, "GET", u16(1), "/", block));
    const res = (block: Uint8Array) => rawFrame(FrameType.HEADERS, 0, 5, bytesOf(u16(200), block));
    const tr = (block: Uint8Array) => rawFrame(FrameType.TRAILERS, 0, 7, block);
    expect(decodeFrame(req(fits), "client", limits)).toMatchObject({ kind: "request-headers" });
    expect(decodeFrame(res(fits), "server", limits)).toMatchObject({ kind: "response-headers" });
    expect(decodeFrame(tr(fits), "server", limits)).toMatchObject({ kind: "trailers" });
    expectProtocolError(() => decodeFrame(req(over), "client", limits), ErrorCode.HEADER_BLOCK_TOO_LARGE, 3);
    expectProtocolError(() => decodeFrame(res(over), "server", limits), ErrorCode.HEADER_BLOCK_TOO_LARGE, 5);
    expectProtocolError(() => decodeFrame(tr(over), "server", limits), ErrorCode.HEADER_BLOCK_TOO_LARGE, 7);
    // The size check comes before parsing: an oversized malformed block is still too large.
    expectProtocolError(() => decodeFrame(tr(new Uint8Array(101)), "server", limits), ErrorCode.HEADER_BLOCK_TOO_LARGE, 7);
  });

  it("TRAILERS from a client (PROTOCOL_ERROR on the stream)", () => {
    expectProtocolError(() => decodeFrame(rawFrame(FrameType.TRAILERS, 0, 3, bytesOf(u16(0))), "client"), ErrorCode.PROTOCOL_ERROR, 3);
  });

  it("an RST_STREAM payload under 4 bytes (FRAME_SIZE_ERROR)", () => {
    for (let n = 0; n < 4; n++) {
      expectProtocolError(() => decodeFrame(rawFrame(FrameType.RST_STREAM, 0, 1, new Uint8Array(n)), "client"), ErrorCode.FRAME_SIZE_ERROR);
    }
  });

  it("a GOAWAY payload under 8 bytes (FRAME_SIZE_ERROR)", () => {
    for (let n = 0; n < 8; n++) {
      expectProtocolError(() => decodeFrame(rawFrame(FrameType.GOAWAY, 0, 0, new Uint8Array(n)), "server"), ErrorCode.FRAME_SIZE_ERROR);
    }
  });

  it("a GOAWAY last stream id with the reserved bit (PROTOCOL_ERROR)", () => {
    expectProtocolError(
      () => decodeFrame(rawFrame(FrameType.GOAWAY, 0, 0, bytesOf(u32(0x80000000), u32(0))), "server"),
      ErrorCode.PROTOCOL_ERROR,
    );
  });

  it("a WINDOW_UPDATE payload other than 4 bytes (FRAME_SIZE_ERROR)", () => {
    for (const n of [0, 1, 3, 5, 8]) {
      expectProtocolError(
        () => decodeFrame(rawFrame(FrameType.WINDOW_UPDATE, 0, 1, new Uint8Array(n).fill(1)), "client"),
        ErrorCode.FRAME_SIZE_ERROR,
      );
    }
  });

  it("a window increment of 0 or above 2^31-1 (PROTOCOL_ERROR on that stream, or the socket)", () => {
    for (const inc of [0, MAX_WINDOW + 1, 0xffffffff]) {
      expectProtocolError(() => decodeFrame(rawFrame(FrameType.WINDOW_UPDATE, 0, 5, u32(inc)), "client"), ErrorCode.PROTOCOL_ERROR, 5);
      expectProtocolError(() => decodeFrame(rawFrame(FrameType.WINDOW_UPDATE, 0, 0, u32(inc)), "server"), ErrorCode.PROTOCOL_ERROR, 0);
    }
  });

  it("PING and PONG payloads other than 8 bytes (FRAME_SIZE_ERROR)", () => {
    for (const type of [FrameType.PING, FrameType.PONG]) {
      for (const n of [0, 1, 7, 9, 16]) {
        expectProtocolError(() => decodeFrame(rawFrame(type, 0, 0, new Uint8Array(n)), "client"), ErrorCode.FRAME_SIZE_ERROR);
      }
    }
  });

  it("a SETTINGS length that is not a multiple of 6 (FRAME_SIZE_ERROR)", () => {
    for (const n of [1, 5, 7, 11, 13]) {
      expectProtocolError(() => decodeFrame(rawFrame(FrameType.SETTINGS, 0, 0, new Uint8Array(n)), "client"), ErrorCode.FRAME_SIZE_ERROR);
    }
  });

  it("bad SETTINGS values (PROTOCOL_ERROR for the socket)", () => {
    const bad: Array<[number, number]> = [
      [SettingId.VERSION, 0],
      [SettingId.INITIAL_STREAM_WINDOW, MAX_WINDOW + 1],
      [SettingId.INITIAL_STREAM_WINDOW, 0xffffffff],
      [SettingId.INITIAL_CONNECTION_WINDOW, MAX_WINDOW + 1],
      [SettingId.MAX_FRAME_PAYLOAD, 0],
      [SettingId.MAX_FRAME_PAYLOAD, MIN_MAX_FRAME_PAYLOAD - 1],
      [SettingId.MAX_FRAME_PAYLOAD, MAX_MAX_FRAME_PAYLOAD + 1],
    ];
    for (const [id, value] of bad) {
      const payload = bytesOf(u16(SettingId.PING_INTERVAL_MS), u32(1), u16(id), u32(value));
      expectProtocolError(() => decodeFrame(rawFrame(FrameType.SETTINGS, 0, 0, payload), "server"), ErrorCode.PROTOCOL_ERROR);
    }
    for (const [id, value] of [
      [SettingId.MAX_FRAME_PAYLOAD, MAX_MAX_FRAME_PAYLOAD],
      [SettingId.INITIAL_CONNECTION_WINDOW, MAX_WINDOW],
      [SettingId.INITIAL_STREAM_WINDOW, 0],
      [SettingId.VERSION, 2],
    ] as const) {
      expect(decodeFrame(rawFrame(FrameType.SETTINGS, 0, 0, bytesOf(u16(id), u32(value))), "server")).toMatchObject({ kind: "settings" });
    }
  });
});

describe("encodeFrame validation", () => {
  const bad: Array<[string, Frame, ErrorCode]> = [
    ["data on stream 0", { kind: "data", streamId: 0, endStream: false, data: new Uint8Array(0) }, ErrorCode.PROTOCOL_ERROR],
    ["data on stream 2^31", { kind: "data", streamId: 0x80000000, endStream: false, data: new Uint8Array(0) }, ErrorCode.PROTOCOL_ERROR],
    ["data on a negative stream", { kind: "data", streamId: -1, endStream: false, data: new Uint8Array(0) }, ErrorCode.PROTOCOL_ERROR],
    ["data on a fractional stream", { kind: "data", streamId: 1.5, endStream: false, data: new Uint8Array(0) }, ErrorCode.PROTOCOL_ERROR],
    [
      "request-headers on stream 0",
      { kind: "request-headers", streamId: 0, endStream: false, method: "GET", path: "/", headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "request-headers lowercase method",
      { kind: "request-headers", streamId: 1, endStream: false, method: "get", path: "/", headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "request-headers empty method",
      { kind: "request-headers", streamId: 1, endStream: false, method: "", path: "/", headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "request-headers 17-letter method",
      { kind: "request-headers", streamId: 1, endStream: false, method: "A".repeat(17), path: "/", headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "request-headers relative path",
      { kind: "request-headers", streamId: 1, endStream: false, method: "GET", path: "x", headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "request-headers path with space",
      { kind: "request-headers", streamId: 1, endStream: false, method: "GET", path: "/a b", headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "request-headers path over 65535",
      { kind: "request-headers", streamId: 1, endStream: false, method: "GET", path: `/${"a".repeat(0xffff)}`, headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "request-headers bad name",
      { kind: "request-headers", streamId: 1, endStream: false, method: "GET", path: "/", headers: [["X-Up", "1"]] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "request-headers bad value",
      { kind: "request-headers", streamId: 1, endStream: false, method: "GET", path: "/", headers: [["x", "a\r\nb"]] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "response-headers on stream 0",
      { kind: "response-headers", streamId: 0, endStream: false, status: 200, headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "response-headers status 99",
      { kind: "response-headers", streamId: 1, endStream: false, status: 99, headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "response-headers status 600",
      { kind: "response-headers", streamId: 1, endStream: false, status: 600, headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "response-headers status 200.5",
      { kind: "response-headers", streamId: 1, endStream: false, status: 200.5, headers: [] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "response-headers empty name",
      { kind: "response-headers", streamId: 1, endStream: false, status: 200, headers: [["", "x"]] },
      ErrorCode.PROTOCOL_ERROR,
    ],
    ["trailers on stream 0", { kind: "trailers", streamId: 0, trailers: [] }, ErrorCode.PROTOCOL_ERROR],
    ["trailers NUL value", { kind: "trailers", streamId: 1, trailers: [["grpc-message", "\0"]] }, ErrorCode.PROTOCOL_ERROR],
    [
      "trailers over 65535 entries",
      { kind: "trailers", streamId: 1, trailers: Array.from({ length: 0x10000 }, () => ["a", ""] as [string, string]) },
      ErrorCode.HEADER_BLOCK_TOO_LARGE,
    ],
    [
      "trailers name over 65535 bytes",
      { kind: "trailers", streamId: 1, trailers: [["a".repeat(0x10000), ""]] },
      ErrorCode.HEADER_BLOCK_TOO_LARGE,
    ],
    ["rst on stream 0", { kind: "rst", streamId: 0, code: 0, message: "" }, ErrorCode.PROTOCOL_ERROR],
    ["settings version 0", { kind: "settings", settings: { version: 0 } }, ErrorCode.PROTOCOL_ERROR],
    ["settings negative", { kind: "settings", settings: { maxConcurrentStreams: -1 } }, ErrorCode.PROTOCOL_ERROR],
    ["settings over u32", { kind: "settings", settings: { pingIntervalMs: 2 ** 32 } }, ErrorCode.PROTOCOL_ERROR],
    ["settings fractional", { kind: "settings", settings: { pingIntervalMs: 0.5 } }, ErrorCode.PROTOCOL_ERROR],
    [
      "settings stream window over 2^31-1",
      { kind: "settings", settings: { initialStreamWindow: MAX_WINDOW + 1 } },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "settings connection window over 2^31-1",
      { kind: "settings", settings: { initialConnectionWindow: MAX_WINDOW + 1 } },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "settings max frame payload too small",
      { kind: "settings", settings: { maxFramePayload: MIN_MAX_FRAME_PAYLOAD - 1 } },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      "settings max frame payload too big",
      { kind: "settings", settings: { maxFramePayload: MAX_MAX_FRAME_PAYLOAD + 1 } },
      ErrorCode.PROTOCOL_ERROR,
    ],
    ["window-update increment 0", { kind: "window-update", streamId: 1, increment: 0 }, ErrorCode.PROTOCOL_ERROR],
    ["window-update increment 2^31", { kind: "window-update", streamId: 0, increment: MAX_WINDOW + 1 }, ErrorCode.PROTOCOL_ERROR],
    ["window-update fractional increment", { kind: "window-update", streamId: 0, increment: 1.5 }, ErrorCode.PROTOCOL_ERROR],
    ["window-update stream 2^31", { kind: "window-update", streamId: 0x80000000, increment: 1 }, ErrorCode.PROTOCOL_ERROR],
    ["window-update negative stream", { kind: "window-update", streamId: -3, increment: 1 }, ErrorCode.PROTOCOL_ERROR],
    ["ping of 7 bytes", { kind: "ping", data: new Uint8Array(7) }, ErrorCode.FRAME_SIZE_ERROR],
    ["pong of 9 bytes", { kind: "pong", data: new Uint8Array(9) }, ErrorCode.FRAME_SIZE_ERROR],
    ["goaway last id 2^31", { kind: "goaway", lastStreamId: 0x80000000, code: 0, message: "" }, ErrorCode.PROTOCOL_ERROR],
    ["goaway negative last id", { kind: "goaway", lastStreamId: -1, code: 0, message: "" }, ErrorCode.PROTOCOL_ERROR],
    [
      "unknown with a defined type",
      { kind: "unknown", type: FrameType.GOAWAY, flags: 0, streamId: 0, payload: new Uint8Array(0) },
      ErrorCode.PROTOCOL_ERROR,
    ],
    ["unknown with type 0", { kind: "unknown", type: 0, flags: 0, streamId: 1, payload: new Uint8Array(0) }, ErrorCode.PROTOCOL_ERROR],
    [
      "unknown with type 256",
      { kind: "unknown", type: 0x100, flags: 0, streamId: 1, payload: new Uint8Array(0) },
      ErrorCode.PROTOCOL_ERROR,
    ],
  ];
  for (const [name, frame, code] of bad) {
    it(name, () => {
      expectProtocolError(() => encodeFrame(frame), code, 0);
    });
  }
});
