/**
 * How tunnel failures surface to callers: RST_STREAM / GOAWAY codes and socket loss become
 * Connect errors, following the table in docs/PROTOCOL.md ("Reset codes as the client
 * reports them").
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCode, errorCodeName } from "../protocol/index.js";

/** The Connect code a tunnel error code is reported as. */
export function connectCodeOf(code: number): Code {
  switch (code) {
    case ErrorCode.REFUSED_STREAM:
    case ErrorCode.UPSTREAM_UNAVAILABLE:
      return Code.Unavailable;
    case ErrorCode.CANCEL:
      return Code.Canceled;
    case ErrorCode.FORBIDDEN:
      return Code.PermissionDenied;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.HEADER_BLOCK_TOO_LARGE:
    case ErrorCode.ENHANCE_YOUR_CALM:
      return Code.ResourceExhausted;
    default:
      return Code.Internal;
  }
}

/** The error for a stream the gateway reset with RST_STREAM (or a GOAWAY that ended it). */
export function resetError(code: number, message: string): ConnectError {
  const text = message || `the tunnel gateway reset the stream with ${errorCodeName(code)}`;
  return new ConnectError(text, connectCodeOf(code));
}

/**
 * The error for calls in flight when the socket to the gateway is lost. Its message starts
 * with "tunnel socket lost": such a call may have reached the backend.
 */
export function socketLostError(why: string): ConnectError {
  return new ConnectError(`tunnel socket lost: ${why}`, Code.Unavailable);
}

/**
 * The error for calls that never reached the gateway because no socket could be opened.
 * Its message starts with "tunnel gateway unreachable": replaying such a call is safe.
 */
export function unreachableError(why: string): ConnectError {
  return new ConnectError(`tunnel gateway unreachable: ${why}`, Code.Unavailable);
}

/** The error for a call the caller aborted (or the client was closed). */
export function canceledError(why = "the call was canceled"): ConnectError {
  return new ConnectError(why, Code.Canceled);
}
