/**
 * Constants of the swtunnel wire format v1. docs/PROTOCOL.md is the normative text;
 * every number here appears there.
 */

/** The protocol version this code speaks, sent in SETTINGS and in the subprotocol. */
export const PROTOCOL_VERSION = 1;

/** WebSocket subprotocol a client must offer at the upgrade. */
export const SUBPROTOCOL = "swtunnel.v1";

/** Size of the fixed frame header: type (1), flags (1), stream id (4). */
export const FRAME_HEADER_SIZE = 6;

/** Largest stream id (31 bits, as in HTTP/2). */
export const MAX_STREAM_ID = 0x7fffffff;

/** Largest window size and window increment (2^31 - 1). */
export const MAX_WINDOW = 0x7fffffff;

/** Frame types (byte 0 of every frame). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  TRAILERS: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  WINDOW_UPDATE: 0x5,
  PING: 0x6,
  PONG: 0x7,
  GOAWAY: 0x8,
  /** Several frames in one message, to a peer that announced FRAME_BATCHES (batch.ts). */
  BATCH: 0x9,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Flag bits (byte 1). Only END_STREAM is defined; other bits must be 0 and are ignored. */
export const Flags = {
  /** On DATA or HEADERS: the sender will send nothing more on this stream. */
  END_STREAM: 0x1,
} as const;

/** Setting identifiers carried in SETTINGS. */
export const SettingId = {
  VERSION: 0x1,
  MAX_CONCURRENT_STREAMS: 0x2,
  INITIAL_STREAM_WINDOW: 0x3,
  INITIAL_CONNECTION_WINDOW: 0x4,
  MAX_FRAME_PAYLOAD: 0x5,
  PING_INTERVAL_MS: 0x6,
  FRAME_BATCHES: 0x7,
} as const;
export type SettingId = (typeof SettingId)[keyof typeof SettingId];

/** Values of the settings, as both ends see them once SETTINGS was exchanged. */
export interface Settings {
  /** Protocol version the sender speaks. */
  version: number;
  /** Streams the sender accepts at once (meaningful from the gateway; clients send 0). */
  maxConcurrentStreams: number;
  /** Bytes of DATA payload the sender accepts per stream before a WINDOW_UPDATE. */
  initialStreamWindow: number;
  /** Bytes of DATA payload the sender accepts on the whole socket before a WINDOW_UPDATE. */
  initialConnectionWindow: number;
  /** Largest frame payload the sender accepts. */
  maxFramePayload: number;
  /** How often the sender pings, in milliseconds (0 = never). */
  pingIntervalMs: number;
  /** 1: the sender accepts BATCH messages (several frames in one WebSocket message); 0: it does not. */
  frameBatches: number;
}

/** Values assumed for a setting that a SETTINGS frame leaves out. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  version: PROTOCOL_VERSION,
  maxConcurrentStreams: 100,
  initialStreamWindow: 1 << 20,
  initialConnectionWindow: 8 << 20,
  maxFramePayload: 64 << 10,
  pingIntervalMs: 25_000,
  frameBatches: 0,
});

/** Smallest MAX_FRAME_PAYLOAD a peer may announce (a header block must fit). */
export const MIN_MAX_FRAME_PAYLOAD = 16 << 10;
/** Largest MAX_FRAME_PAYLOAD a peer may announce. */
export const MAX_MAX_FRAME_PAYLOAD = 16 << 20;
