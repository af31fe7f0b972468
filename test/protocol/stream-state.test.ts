import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  IDLE_STREAM,
  ProtocolError,
  isStreamClosed,
  nextStreamState,
  type StreamEvent,
  type StreamState,
} from "../../protocol/index.js";
import { expectProtocolError } from "./helpers.js";

// Every reachable state, named. The request half is written first.
const STATES = {
  idle: { request: "idle", response: "idle", reset: false },
  "open/idle": { request: "open", response: "idle", reset: false },
  "closed/idle": { request: "closed", response: "idle", reset: false },
  "open/open": { request: "open", response: "open", reset: false },
  "open/closed": { request: "open", response: "closed", reset: false },
  "closed/open": { request: "closed", response: "open", reset: false },
  "closed/closed": { request: "closed", response: "closed", reset: false },
  reset: { request: "closed", response: "closed", reset: true },
} as const satisfies Record<string, StreamState>;
type StateName = keyof typeof STATES;

const EVENTS = {
  "REQ HEADERS": { frame: "request-headers", endStream: false },
  "REQ HEADERS+ES": { frame: "request-headers", endStream: true },
  "RES HEADERS": { frame: "response-headers", endStream: false },
  "RES HEADERS+ES": { frame: "response-headers", endStream: true },
  "REQ DATA": { frame: "data", direction: "request", endStream: false },
  "REQ DATA+ES": { frame: "data", direction: "request", endStream: true },
  "RES DATA": { frame: "data", direction: "response", endStream: false },
  "RES DATA+ES": { frame: "data", direction: "response", endStream: true },
  TRAILERS: { frame: "trailers" },
  RST_STREAM: { frame: "rst" },
  WINDOW_UPDATE: { frame: "window-update" },
} as const satisfies Record<string, StreamEvent>;
type EventName = keyof typeof EVENTS;

const PE = "PROTOCOL_ERROR";
const SC = "STREAM_CLOSED";
type Outcome = StateName | typeof PE | typeof SC;

// The full transition table (docs/PROTOCOL.md, "Stream states"). Columns follow STATES order:
//                 idle   open/idle      closed/idle    open/open      open/closed    closed/open    closed/closed  reset
const TABLE: Record<EventName, Outcome[]> = {
  "REQ HEADERS": ["open/idle", PE, SC, PE, PE, SC, SC, SC],
  "REQ HEADERS+ES": ["closed/idle", PE, SC, PE, PE, SC, SC, SC],
  "RES HEADERS": [PE, "open/open", "closed/open", PE, SC, PE, SC, SC],
  "RES HEADERS+ES": [PE, "open/closed", "closed/closed", PE, SC, PE, SC, SC],
  "REQ DATA": [PE, "open/idle", SC, "open/open", "open/closed", SC, SC, SC],
  "REQ DATA+ES": [PE, "closed/idle", SC, "closed/open", "closed/closed", SC, SC, SC],
  "RES DATA": [PE, PE, PE, "open/open", SC, "closed/open", SC, SC],
  "RES DATA+ES": [PE, PE, PE, "open/closed", SC, "closed/closed", SC, SC],
  TRAILERS: [PE, PE, PE, "open/closed", SC, "closed/closed", SC, SC],
  RST_STREAM: [PE, "reset", "reset", "reset", "reset", "reset", "reset", "reset"],
  WINDOW_UPDATE: [PE, "open/idle", "closed/idle", "open/open", "open/closed", "closed/open", "closed/closed", "reset"],
};

const stateNames = Object.keys(STATES) as StateName[];
const eventNames = Object.keys(EVENTS) as EventName[];
const nameOf = (s: StreamState): StateName | undefined =>
  stateNames.find((n) => STATES[n].request === s.request && STATES[n].response === s.response && STATES[n].reset === s.reset);

describe("stream state machine", () => {
  it("reaches exactly the eight tabled states from idle", () => {
    const seen = new Set<string>([JSON.stringify(IDLE_STREAM)]);
    const queue: StreamState[] = [IDLE_STREAM];
    while (queue.length > 0) {
      const s = queue.shift()!;
      for (const e of eventNames) {
        let next: StreamState;
        try {
          next = nextStreamState(s, EVENTS[e], 1);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
          continue;
        }
        const key = JSON.stringify({ request: next.request, response: next.response, reset: next.reset });
        if (!seen.has(key)) {
          seen.add(key);
          queue.push(next);
        }
      }
    }
    expect([...seen].map((k) => nameOf(JSON.parse(k) as StreamState)).sort()).toEqual([...stateNames].sort());
  });

  for (const [col, from] of stateNames.entries()) {
    for (const e of eventNames) {
      const expected = TABLE[e][col]!;
      it(`${from} + ${e} -> ${expected}`, () => {
        const streamId = 1 + col * 16 + eventNames.indexOf(e);
        const before = { ...STATES[from] };
        if (expected === PE || expected === SC) {
          const err = expectProtocolError(() => nextStreamState(STATES[from], EVENTS[e], streamId), ErrorCode[expected], streamId);
          expect(err.message).toContain(`stream ${streamId}`);
        } else {
          const next = nextStreamState(STATES[from], EVENTS[e], streamId);
          expect(nameOf(next)).toBe(expected);
        }
        expect(STATES[from]).toEqual(before); // never mutates its input
      });
    }
  }

  it("isStreamClosed is true only when both halves are closed or the stream was reset", () => {
    for (const n of stateNames) expect(isStreamClosed(STATES[n]), n).toBe(n === "closed/closed" || n === "reset");
  });

  it("IDLE_STREAM is the idle state and frozen", () => {
    expect(nameOf(IDLE_STREAM)).toBe("idle");
    expect(Object.isFrozen(IDLE_STREAM)).toBe(true);
  });

  const run = (...events: EventName[]) => events.reduce<StreamState>((s, e) => nextStreamState(s, EVENTS[e], 1), IDLE_STREAM);
  const legal: Array<[string, EventName[], StateName]> = [
    ["unary", ["REQ HEADERS", "WINDOW_UPDATE", "REQ DATA+ES", "RES HEADERS", "RES DATA", "TRAILERS", "WINDOW_UPDATE"], "closed/closed"],
    ["GET without body, trailers-only answer", ["REQ HEADERS+ES", "RES HEADERS+ES"], "closed/closed"],
    [
      "client streaming with empty END_STREAM DATA",
      ["REQ HEADERS", "REQ DATA", "REQ DATA", "REQ DATA+ES", "RES HEADERS", "RES DATA+ES"],
      "closed/closed",
    ],
    [
      "bidi interleaved",
      ["REQ HEADERS", "RES HEADERS", "REQ DATA", "RES DATA", "REQ DATA", "RES DATA", "REQ DATA+ES", "TRAILERS"],
      "closed/closed",
    ],
    ["early response while the request still streams", ["REQ HEADERS", "RES HEADERS+ES", "REQ DATA", "REQ DATA+ES"], "closed/closed"],
    ["cancel mid-stream", ["REQ HEADERS", "RES HEADERS", "RST_STREAM"], "reset"],
    ["reset after the end, then racing frames", ["REQ HEADERS+ES", "RES HEADERS+ES", "RST_STREAM", "WINDOW_UPDATE", "RST_STREAM"], "reset"],
  ];
  for (const [name, events, end] of legal) {
    it(`legal path: ${name}`, () => {
      expect(nameOf(run(...events))).toBe(end);
    });
  }
});
