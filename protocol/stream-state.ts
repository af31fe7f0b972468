/**
 * Stream state rules, as a pure state machine both ends use.
 *
 * A stream has two halves. The request half carries client -> gateway frames
 * (HEADERS, DATA); the response half carries gateway -> client frames (HEADERS, DATA,
 * TRAILERS). Each half goes idle -> open -> closed. RST_STREAM closes both at once.
 *
 *   request half:  idle --HEADERS--> open --DATA*--> closed (END_STREAM on HEADERS or DATA)
 *   response half: idle --HEADERS--> open --DATA*--> closed (END_STREAM on HEADERS or DATA,
 *                                                            or TRAILERS)
 *
 * The response half may open only after the request half left idle. WINDOW_UPDATE is
 * legal in any state after the stream opened (it may race with the stream's end).
 */
import { ErrorCode, ProtocolError } from "./errors.js";

export type HalfState = "idle" | "open" | "closed";

export interface StreamState {
  readonly request: HalfState;
  readonly response: HalfState;
  /** Set once RST_STREAM was sent or received. */
  readonly reset: boolean;
}

/** What happened on a stream, from the point of view of the frame's direction. */
export type StreamEvent =
  | { frame: "request-headers"; endStream: boolean }
  | { frame: "response-headers"; endStream: boolean }
  | { frame: "data"; direction: "request" | "response"; endStream: boolean }
  | { frame: "trailers" }
  | { frame: "rst" }
  | { frame: "window-update" };

export const IDLE_STREAM: StreamState = Object.freeze({ request: "idle", response: "idle", reset: false });

/** True when nothing more can be sent or received on the stream. */
export function isStreamClosed(s: StreamState): boolean {
  return s.reset || (s.request === "closed" && s.response === "closed");
}

/**
 * The state after `event`, or a ProtocolError (STREAM_CLOSED for frames after the end,
 * PROTOCOL_ERROR for frames out of order) carrying `streamId`.
 */
export function nextStreamState(s: StreamState, event: StreamEvent, streamId: number): StreamState {
  const fail = (code: ErrorCode, why: string): never => {
    throw new ProtocolError(code, `stream ${streamId}: ${why}`, streamId);
  };
  const ended = (half: HalfState, name: string) => {
    if (s.reset) fail(ErrorCode.STREAM_CLOSED, `${name} after RST_STREAM`);
    if (half === "closed") fail(ErrorCode.STREAM_CLOSED, `${name} after the end of the stream`);
  };
  switch (event.frame) {
    case "request-headers":
      ended(s.request, "request HEADERS");
      if (s.request !== "idle") fail(ErrorCode.PROTOCOL_ERROR, "second request HEADERS on an open stream");
      return { ...s, request: event.endStream ? "closed" : "open" };
    case "response-headers":
      ended(s.response, "response HEADERS");
      if (s.request === "idle") fail(ErrorCode.PROTOCOL_ERROR, "response HEADERS before the request");
      if (s.response !== "idle") fail(ErrorCode.PROTOCOL_ERROR, "second response HEADERS");
      return { ...s, response: event.endStream ? "closed" : "open" };
    case "data": {
      const half = event.direction === "request" ? s.request : s.response;
      ended(half, `${event.direction} DATA`);
      if (half === "idle") fail(ErrorCode.PROTOCOL_ERROR, `${event.direction} DATA before ${event.direction} HEADERS`);
      return event.endStream ? { ...s, [event.direction]: "closed" } : s;
    }
    case "trailers":
      ended(s.response, "TRAILERS");
      if (s.response === "idle") fail(ErrorCode.PROTOCOL_ERROR, "TRAILERS before response HEADERS");
      return { ...s, response: "closed" };
    case "rst":
      if (s.request === "idle" && s.response === "idle") fail(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on an idle stream");
      return { request: "closed", response: "closed", reset: true };
    case "window-update":
      if (s.request === "idle" && s.response === "idle") fail(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE on an idle stream");
      return s;
  }
}
