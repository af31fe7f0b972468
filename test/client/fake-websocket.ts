/**
 * An in-memory WebSocket for the tunnel client, driven by the test: no I/O and no timers
 * of its own, so it works under `vi.useFakeTimers()`. Each construction is recorded; the
 * test opens it, feeds it gateway frames, or fails it.
 */
import { DEFAULT_SETTINGS, SUBPROTOCOL, decodeFrame, encodeFrame, type Frame, type Settings } from "../../protocol/index.js";
import type { WebSocketConstructorLike, WebSocketLike } from "../../client/types.js";

type Listener = (event: unknown) => void;

export class FakeSocket implements WebSocketLike {
  binaryType = "blob";
  readyState = 0;
  protocol = "";
  closed: { code?: number; reason?: string } | null = null;
  /** Frames the client sent, decoded. */
  readonly sent: Frame[] = [];
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: Uint8Array): void {
    this.sent.push(decodeFrame(data, "client"));
  }

  close(code?: number, reason?: string): void {
    if (this.readyState === 3) return;
    this.closed = { code, reason };
    this.readyState = 3;
  }

  /** The socket opened with the tunnel subprotocol; with `settings`, the gateway's SETTINGS follow. */
  open(settings?: Partial<Settings>): void {
    this.readyState = 1;
    this.protocol = SUBPROTOCOL;
    this.emit("open", {});
    if (settings) this.receive({ kind: "settings", settings: { ...DEFAULT_SETTINGS, ...settings } });
  }

  /** A frame from the gateway. */
  receive(frame: Frame): void {
    const bytes = encodeFrame(frame);
    this.emit("message", { data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }

  /** The connection failed or dropped. */
  fail(message = "connection refused"): void {
    this.readyState = 3;
    this.emit("error", { message });
    this.emit("close", { code: 1006 });
  }

  private emit(type: string, event: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l(event);
  }
}

/** A WebSocket constructor whose sockets land in `sockets`. */
export function fakeWebSocket(): { WebSocket: WebSocketConstructorLike; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  const WebSocket = class extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  };
  return { WebSocket, sockets };
}
