/**
 * Frame codec. One frame per WebSocket binary message:
 *
 *   type u8 | flags u8 | stream id u32 (high bit reserved, must be 0) | payload
 *
 * The payload runs to the end of the message. Payload layouts are in docs/PROTOCOL.md.
 * Decoding never reads past the buffer and throws nothing but ProtocolError.
 */
import {
  DEFAULT_SETTINGS,
  FRAME_HEADER_SIZE,
  Flags,
  FrameType,
  MAX_MAX_FRAME_PAYLOAD,
  MAX_STREAM_ID,
  MAX_WINDOW,
  MIN_MAX_FRAME_PAYLOAD,
  SettingId,
  type Settings,
} from "./constants.js";
import { ErrorCode, ProtocolError } from "./errors.js";
import { checkHeaderList, decodeHeaderBlock, decodeText, encodedHeaderBlock, writeHeaderBlock, type HeaderList } from "./headers.js";

/** Which end sent a frame: HEADERS are shaped differently each way. */
export type Peer = "client" | "server";

export interface DataFrame {
  kind: "data";
  streamId: number;
  endStream: boolean;
  data: Uint8Array;
}
/** HEADERS sent by the client: opens a stream. */
export interface RequestHeadersFrame {
  kind: "request-headers";
  streamId: number;
  /** No DATA follows: the request has no body. */
  endStream: boolean;
  method: string;
  path: string;
  headers: HeaderList;
}
/** HEADERS sent by the gateway: the response head. */
export interface ResponseHeadersFrame {
  kind: "response-headers";
  streamId: number;
  /** No body and no trailers follow (a "trailers-only" response). */
  endStream: boolean;
  status: number;
  headers: HeaderList;
}
/** TRAILERS (gateway only): the response's trailers; ends the stream. */
export interface TrailersFrame {
  kind: "trailers";
  streamId: number;
  trailers: HeaderList;
}
export interface RstStreamFrame {
  kind: "rst";
  streamId: number;
  code: number;
  message: string;
}
export interface SettingsFrame {
  kind: "settings";
  /** Only the settings present in the frame; the receiver fills the rest with defaults. */
  settings: Partial<Settings>;
}
export interface WindowUpdateFrame {
  kind: "window-update";
  /** 0 = the whole socket. */
  streamId: number;
  increment: number;
}
export interface PingFrame {
  kind: "ping" | "pong";
  /** 8 opaque bytes; a PONG echoes the PING's. */
  data: Uint8Array;
}
export interface GoawayFrame {
  kind: "goaway";
  /** Highest stream id the sender accepted; streams above it were not processed. */
  lastStreamId: number;
  code: number;
  message: string;
}
/** A frame of a type this version does not define. Receivers ignore it. */
export interface UnknownFrame {
  kind: "unknown";
  type: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

export type Frame =
  | DataFrame
  | RequestHeadersFrame
  | ResponseHeadersFrame
  | TrailersFrame
  | RstStreamFrame
  | SettingsFrame
  | WindowUpdateFrame
  | PingFrame
  | GoawayFrame
  | UnknownFrame;

/** Limits the decoder enforces. */
export interface DecodeLimits {
  /** Largest payload accepted (FRAME_SIZE_ERROR above it). */
  maxFramePayload: number;
  /** Largest header block accepted (HEADER_BLOCK_TOO_LARGE above it, a stream error). */
  maxHeaderBlockBytes: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxFramePayload: DEFAULT_SETTINGS.maxFramePayload,
  maxHeaderBlockBytes: 64 << 10,
});

const encoder = new TextEncoder();
const METHOD = /^[A-Z]{1,16}$/;
// A path as HTTP/2 :path carries it: starts with '/', visible ASCII only.
const PATH = /^\/[\x21-\x7e]*$/;

const SETTING_FIELDS: Array<[SettingId, keyof Settings]> = [
  [SettingId.VERSION, "version"],
  [SettingId.MAX_CONCURRENT_STREAMS, "maxConcurrentStreams"],
  [SettingId.INITIAL_STREAM_WINDOW, "initialStreamWindow"],
  [SettingId.INITIAL_CONNECTION_WINDOW, "initialConnectionWindow"],
  [SettingId.MAX_FRAME_PAYLOAD, "maxFramePayload"],
  [SettingId.PING_INTERVAL_MS, "pingIntervalMs"],
  [SettingId.FRAME_BATCHES, "frameBatches"],
];

function header(type: number, flags: number, streamId: number, payloadSize: number) {
  const bytes = new Uint8Array(FRAME_HEADER_SIZE + payloadSize);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, type);
  view.setUint8(1, flags);
  view.setUint32(2, streamId);
  return { bytes, view };
}

function checkStreamId(id: number, zero: boolean): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_STREAM_ID || (zero ? id !== 0 : id === 0)) {
    throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, zero ? `stream id must be 0, got ${id}` : `invalid stream id ${id}`);
  }
}

function checkRequestLine(method: string, path: string): void {
  if (!METHOD.test(method)) throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `invalid method ${JSON.stringify(method)}`);
  if (!PATH.test(path) || path.length > 0xffff) {
    throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `invalid path ${JSON.stringify(path.slice(0, 64))}`);
  }
}

/**
 * Throws the ProtocolError that encoding a request HEADERS frame with this head would
 * throw, without encoding it.
 */
export function checkRequestHead(method: string, path: string, headers: HeaderList): void {
  checkRequestLine(method, path);
  checkHeaderList(headers);
}

/** Encodes one frame into the bytes of one WebSocket binary message. */
export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.kind) {
    case "data": {
      checkStreamId(frame.streamId, false);
      const { bytes } = header(FrameType.DATA, frame.endStream ? Flags.END_STREAM : 0, frame.streamId, frame.data.length);
      bytes.set(frame.data, FRAME_HEADER_SIZE);
      return bytes;
    }
    case "request-headers": {
      checkStreamId(frame.streamId, false);
      checkRequestLine(frame.method, frame.path);
      const block = encodedHeaderBlock(frame.headers);
      const size = 1 + frame.method.length + 2 + frame.path.length + block.size;
      const { bytes, view } = header(FrameType.HEADERS, frame.endStream ? Flags.END_STREAM : 0, frame.streamId, size);
      let o = FRAME_HEADER_SIZE;
      view.setUint8(o, frame.method.length);
      bytes.set(encoder.encode(frame.method), o + 1);
      o += 1 + frame.method.length;
      view.setUint16(o, frame.path.length);
      bytes.set(encoder.encode(frame.path), o + 2);
      o += 2 + frame.path.length;
      writeHeaderBlock(view, bytes, o, block.parts);
      return bytes;
    }
    case "response-headers": {
      checkStreamId(frame.streamId, false);
      if (!Number.isInteger(frame.status) || frame.status < 100 || frame.status > 599) {
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `invalid status ${frame.status}`);
      }
      const block = encodedHeaderBlock(frame.headers);
      const { bytes, view } = header(FrameType.HEADERS, frame.endStream ? Flags.END_STREAM : 0, frame.streamId, 2 + block.size);
      view.setUint16(FRAME_HEADER_SIZE, frame.status);
      writeHeaderBlock(view, bytes, FRAME_HEADER_SIZE + 2, block.parts);
      return bytes;
    }
    case "trailers": {
      checkStreamId(frame.streamId, false);
      const block = encodedHeaderBlock(frame.trailers);
      const { bytes, view } = header(FrameType.TRAILERS, 0, frame.streamId, block.size);
      writeHeaderBlock(view, bytes, FRAME_HEADER_SIZE, block.parts);
      return bytes;
    }
    case "rst": {
      checkStreamId(frame.streamId, false);
      const message = encoder.encode(frame.message);
      const { bytes, view } = header(FrameType.RST_STREAM, 0, frame.streamId, 4 + message.length);
      view.setUint32(FRAME_HEADER_SIZE, frame.code);
      bytes.set(message, FRAME_HEADER_SIZE + 4);
      return bytes;
    }
    case "settings": {
      const present = SETTING_FIELDS.filter(([, key]) => frame.settings[key] !== undefined);
      const { bytes, view } = header(FrameType.SETTINGS, 0, 0, present.length * 6);
      let o = FRAME_HEADER_SIZE;
      for (const [id, key] of present) {
        const value = frame.settings[key]!;
        checkSetting(id, value);
        view.setUint16(o, id);
        view.setUint32(o + 2, value);
        o += 6;
      }
      return bytes;
    }
    case "window-update": {
      checkStreamId(frame.streamId, frame.streamId === 0);
      if (!Number.isInteger(frame.increment) || frame.increment < 1 || frame.increment > MAX_WINDOW) {
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `window increment must be 1..2^31-1, got ${frame.increment}`);
      }
      const { bytes, view } = header(FrameType.WINDOW_UPDATE, 0, frame.streamId, 4);
      view.setUint32(FRAME_HEADER_SIZE, frame.increment);
      return bytes;
    }
    case "ping":
    case "pong": {
      if (frame.data.length !== 8) throw new ProtocolError(ErrorCode.FRAME_SIZE_ERROR, `${frame.kind} payload must be 8 bytes`);
      const { bytes } = header(frame.kind === "ping" ? FrameType.PING : FrameType.PONG, 0, 0, 8);
      bytes.set(frame.data, FRAME_HEADER_SIZE);
      return bytes;
    }
    case "goaway": {
      checkStreamId(frame.lastStreamId, frame.lastStreamId === 0);
      const message = encoder.encode(frame.message);
      const { bytes, view } = header(FrameType.GOAWAY, 0, 0, 8 + message.length);
      view.setUint32(FRAME_HEADER_SIZE, frame.lastStreamId);
      view.setUint32(FRAME_HEADER_SIZE + 4, frame.code);
      bytes.set(message, FRAME_HEADER_SIZE + 8);
      return bytes;
    }
    case "unknown": {
      if (frame.type <= FrameType.GOAWAY || frame.type > 0xff) {
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `type ${frame.type} is not an extension frame type`);
      }
      const { bytes } = header(frame.type, frame.flags & 0xff, frame.streamId, frame.payload.length);
      bytes.set(frame.payload, FRAME_HEADER_SIZE);
      return bytes;
    }
  }
}

function checkSetting(id: SettingId, value: number): void {
  const fail = (why: string): never => {
    throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `bad SETTINGS value ${value} for setting 0x${id.toString(16)}: ${why}`);
  };
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) fail("not a u32");
  switch (id) {
    case SettingId.VERSION:
      if (value === 0) fail("version 0 does not exist");
      break;
    case SettingId.INITIAL_STREAM_WINDOW:
    case SettingId.INITIAL_CONNECTION_WINDOW:
      if (value > MAX_WINDOW) fail("windows are at most 2^31-1");
      break;
    case SettingId.FRAME_BATCHES:
      if (value > 1) fail("must be 0 or 1");
      break;
    case SettingId.MAX_FRAME_PAYLOAD:
      if (value < MIN_MAX_FRAME_PAYLOAD || value > MAX_MAX_FRAME_PAYLOAD)
        fail(`must be ${MIN_MAX_FRAME_PAYLOAD}..${MAX_MAX_FRAME_PAYLOAD}`);
      break;
  }
}

/**
 * Decodes one WebSocket message sent by `from`. Throws ProtocolError; its `streamId` is
 * non-zero when only that stream is affected (reset it) and 0 when the socket is (GOAWAY).
 */
export function decodeFrame(message: Uint8Array, from: Peer, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Frame {
  if (message.length < FRAME_HEADER_SIZE) {
    throw new ProtocolError(
      ErrorCode.FRAME_SIZE_ERROR,
      `frame of ${message.length} bytes is shorter than the ${FRAME_HEADER_SIZE}-byte header`,
    );
  }
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const type = view.getUint8(0);
  const flags = view.getUint8(1);
  const rawId = view.getUint32(2);
  const size = message.length - FRAME_HEADER_SIZE;
  if (rawId > MAX_STREAM_ID) throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "reserved bit of the stream id is set");
  const streamId = rawId;
  if (size > limits.maxFramePayload) {
    throw new ProtocolError(ErrorCode.FRAME_SIZE_ERROR, `frame payload of ${size} bytes exceeds the limit of ${limits.maxFramePayload}`);
  }
  const payload = message.subarray(FRAME_HEADER_SIZE);
  const p = FRAME_HEADER_SIZE;
  const endStream = (flags & Flags.END_STREAM) !== 0;
  const needStream = (name: string) => {
    if (streamId === 0) throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `${name} frame on stream 0; it needs a stream`);
  };
  const needZero = (name: string) => {
    if (streamId !== 0) throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `${name} frame on stream ${streamId}; it belongs on stream 0`);
  };
  const streamError = (why: string): never => {
    throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, why, streamId);
  };
  const checkBlockSize = (blockSize: number) => {
    if (blockSize > limits.maxHeaderBlockBytes) {
      throw new ProtocolError(
        ErrorCode.HEADER_BLOCK_TOO_LARGE,
        `header block of ${blockSize} bytes exceeds the limit of ${limits.maxHeaderBlockBytes}`,
        streamId,
      );
    }
  };

  switch (type) {
    case FrameType.DATA:
      needStream("DATA");
      return { kind: "data", streamId, endStream, data: payload };
    case FrameType.HEADERS: {
      needStream("HEADERS");
      if (from === "client") {
        if (size < 1) streamError("HEADERS: truncated method");
        const methodLen = view.getUint8(p);
        if (size < 1 + methodLen + 2) streamError("HEADERS: truncated method or path length");
        const method = decodeText(message, p + 1, p + 1 + methodLen) ?? "";
        if (!METHOD.test(method)) streamError(`HEADERS: invalid method ${JSON.stringify(method.slice(0, 16))}`);
        const pathLen = view.getUint16(p + 1 + methodLen);
        const pathStart = p + 3 + methodLen;
        if (message.length - pathStart < pathLen) streamError(`HEADERS: path length ${pathLen} runs past the frame`);
        const path = decodeText(message, pathStart, pathStart + pathLen) ?? "";
        if (!PATH.test(path)) streamError(`HEADERS: invalid path ${JSON.stringify(path.slice(0, 64))}`);
        checkBlockSize(message.length - pathStart - pathLen);
        const headers = decodeHeaderBlock(message, pathStart + pathLen, message.length, streamId);
        return { kind: "request-headers", streamId, endStream, method, path, headers };
      }
      if (size < 2) streamError("HEADERS: truncated status");
      const status = view.getUint16(p);
      if (status < 100 || status > 599) streamError(`HEADERS: invalid status ${status}`);
      checkBlockSize(size - 2);
      const headers = decodeHeaderBlock(message, p + 2, message.length, streamId);
      return { kind: "response-headers", streamId, endStream, status, headers };
    }
    case FrameType.TRAILERS: {
      needStream("TRAILERS");
      if (from === "client")
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "TRAILERS frame from a client; only the gateway sends trailers", streamId);
      checkBlockSize(size);
      return { kind: "trailers", streamId, trailers: decodeHeaderBlock(message, p, message.length, streamId) };
    }
    case FrameType.RST_STREAM: {
      needStream("RST_STREAM");
      if (size < 4) throw new ProtocolError(ErrorCode.FRAME_SIZE_ERROR, `RST_STREAM payload of ${size} bytes; at least 4 needed`);
      return {
        kind: "rst",
        streamId,
        code: view.getUint32(p),
        message: decodeText(message, p + 4, message.length) ?? "(message is not UTF-8)",
      };
    }
    case FrameType.SETTINGS: {
      needZero("SETTINGS");
      if (size % 6 !== 0) throw new ProtocolError(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS payload of ${size} bytes is not a multiple of 6`);
      const settings: Partial<Settings> = {};
      for (let o = p; o < message.length; o += 6) {
        const id = view.getUint16(o);
        const value = view.getUint32(o + 2);
        const field = SETTING_FIELDS.find(([sid]) => sid === id);
        if (!field) continue; // unknown settings are ignored
        checkSetting(field[0], value);
        settings[field[1]] = value;
      }
      return { kind: "settings", settings };
    }
    case FrameType.WINDOW_UPDATE: {
      if (size !== 4) throw new ProtocolError(ErrorCode.FRAME_SIZE_ERROR, `WINDOW_UPDATE payload of ${size} bytes; exactly 4 needed`);
      const increment = view.getUint32(p);
      if (increment < 1 || increment > MAX_WINDOW) {
        throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, `window increment ${increment} outside 1..2^31-1`, streamId);
      }
      return { kind: "window-update", streamId, increment };
    }
    case FrameType.PING:
    case FrameType.PONG: {
      const name = type === FrameType.PING ? "PING" : "PONG";
      needZero(name);
      if (size !== 8) throw new ProtocolError(ErrorCode.FRAME_SIZE_ERROR, `${name} payload of ${size} bytes; exactly 8 needed`);
      return { kind: type === FrameType.PING ? "ping" : "pong", data: payload };
    }
    case FrameType.GOAWAY: {
      needZero("GOAWAY");
      if (size < 8) throw new ProtocolError(ErrorCode.FRAME_SIZE_ERROR, `GOAWAY payload of ${size} bytes; at least 8 needed`);
      const lastStreamId = view.getUint32(p);
      if (lastStreamId > MAX_STREAM_ID) throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "GOAWAY last stream id has the reserved bit set");
      return {
        kind: "goaway",
        lastStreamId,
        code: view.getUint32(p + 4),
        message: decodeText(message, p + 8, message.length) ?? "(message is not UTF-8)",
      };
    }
    default:
      return { kind: "unknown", type, flags, streamId, payload };
  }
}

/** Settings with every field filled: `partial` over the protocol defaults. */
export function resolveSettings(partial: Partial<Settings>): Settings {
  return { ...DEFAULT_SETTINGS, ...partial };
}
