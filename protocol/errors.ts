/**
 * Error codes shared by both ends, carried in RST_STREAM and GOAWAY, and the one error
 * type the codecs throw.
 */

/** Error codes (u32 on the wire). Unknown codes are treated as INTERNAL_ERROR. */
export const ErrorCode = {
  /** Graceful: GOAWAY on drain, or RST_STREAM when the sender no longer needs the stream's output. */
  NO_ERROR: 0x0,
  /** The peer broke a rule of this protocol (malformed frame, illegal frame for the state). */
  PROTOCOL_ERROR: 0x1,
  /** The sender hit a bug or an unexpected condition. */
  INTERNAL_ERROR: 0x2,
  /** The peer sent more DATA than the window allowed, or overflowed a window. */
  FLOW_CONTROL_ERROR: 0x3,
  /** A frame arrived for a stream that is already closed. */
  STREAM_CLOSED: 0x5,
  /** A frame payload is larger than MAX_FRAME_PAYLOAD, or has a bad fixed length. */
  FRAME_SIZE_ERROR: 0x6,
  /** The stream was not processed at all; it is safe to retry elsewhere. */
  REFUSED_STREAM: 0x7,
  /** The stream was cancelled by its sender. */
  CANCEL: 0x8,
  /** The peer's protocol version is not supported. */
  UNSUPPORTED_VERSION: 0x9,
  /** A header block is larger than the receiver's limit. */
  HEADER_BLOCK_TOO_LARGE: 0xa,
  /** A message (request or response body) is larger than the receiver's limit. */
  MESSAGE_TOO_LARGE: 0xb,
  /** The request targets a path or service the gateway does not allow. */
  FORBIDDEN: 0xc,
  /** The upstream (backend) could not be reached or failed the request at the transport level. */
  UPSTREAM_UNAVAILABLE: 0xd,
  /** The socket saw no stream and no frame for longer than the idle limit. */
  IDLE_TIMEOUT: 0xe,
  /** The peer missed too many PINGs. */
  KEEPALIVE_TIMEOUT: 0xf,
  /** The sender is over a resource limit (sockets, streams, memory). */
  ENHANCE_YOUR_CALM: 0x10,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const names = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

/** The name of an error code, e.g. `PROTOCOL_ERROR`, or `UNKNOWN(0x42)`. */
export function errorCodeName(code: number): string {
  return names.get(code) ?? `UNKNOWN(0x${code.toString(16)})`;
}

/**
 * The only error the protocol module throws. `streamId` is set when the error concerns
 * one stream (answer with RST_STREAM); otherwise it concerns the whole socket (GOAWAY).
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly streamId = 0,
  ) {
    super(message);
  }
}
