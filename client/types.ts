/**
 * Public types of the tunnel client. Web-platform only: the same code runs in a Service
 * Worker and in Node.
 */
import type { HeaderList } from "../protocol/index.js";
import type { BackoffOptions } from "./backoff.js";

export type { HeaderList };

/** The part of the WebSocket API the tunnel uses (browser, Node 22's global, or `ws`). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: "open" | "message" | "close" | "error", // biome-ignore lint/suspicious/noExplicitAny: each WebSocket implementation types its events differently
    listener: (event: any) => void,
  ): void;
}

/** A WebSocket constructor, e.g. `globalThis.WebSocket` or `ws`'s `WebSocket`. */
export type WebSocketConstructorLike = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * Connection status of a tunnel client.
 * - `connecting`: not connected yet (before and during the first connection).
 * - `connected`: a socket is up and its SETTINGS exchange is done.
 * - `reconnecting`: a connection was lost or drained; the next call (or the pending
 *   backoff timer) opens a new one.
 * - `closed`: `close()` was called; nothing reconnects.
 */
export type TunnelStatus = "connecting" | "connected" | "reconnecting" | "closed";

export interface TunnelClientOptions {
  /** ws:// or wss:// gateway URL including the path, e.g. `ws://127.0.0.1:8080/tunnel`. */
  url: string;
  /** WebSocket constructor; default `globalThis.WebSocket`. In Node tests pass `ws`'s. */
  WebSocket?: WebSocketConstructorLike;
  /** Longest wait for the socket to open and the gateway's SETTINGS, and for a call to get a connection. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Jittered exponential backoff between failed connect attempts (see backoff.ts; defaults 100 ms doubling to 5 000 ms, jitter 0.5). */
  reconnect?: BackoffOptions;
  /** Our receive window per stream, announced in SETTINGS (default 1 MiB). */
  streamWindow?: number;
  /** Our receive window per socket, announced in SETTINGS (default 8 MiB). */
  connectionWindow?: number;
  /** Called on every status change. */
  onStatus?: (status: TunnelStatus) => void;
  /**
   * Pack the frames of one task into one WebSocket message, both ways, when the gateway
   * supports it (FRAME_BATCHES, docs/PROTOCOL.md 5.12). Default true.
   */
  batchFrames?: boolean;
}

export interface TunnelRequest {
  method: string;
  /** Path and query, e.g. `/pkg.Service/Method`. */
  path: string;
  headers: HeaderList | Headers;
  /**
   * The request body. An AsyncIterable is pulled only while there is send window, so
   * client and bidi streaming work (the response may start before the request ends).
   */
  body?: AsyncIterable<Uint8Array> | Uint8Array | null;
  signal?: AbortSignal;
}

export interface TunnelResponse {
  status: number;
  headers: HeaderList;
  /** DATA payloads as they arrive; reading them grants the gateway more window. */
  body: AsyncIterable<Uint8Array>;
  /** The response trailers; complete once `body` ended (empty before, and for trailers-only responses). */
  trailers(): HeaderList;
}

export interface TunnelStats {
  /** Streams open on all sockets. */
  streamsOpen: number;
  /** Calls waiting for a connection or for a free stream slot. */
  streamsQueued: number;
  /** Sockets open or opening (the current one plus draining ones). */
  sockets: number;
  /** Calls passed to request(). */
  callsStarted: number;
  /** Sockets opened after the first one. */
  reconnects: number;
}

export interface TunnelClient {
  /**
   * Starts a call; resolves at the response head, rejects with a TunnelError (see
   * errors.ts), which passes `instanceof ConnectError`; the body fails the same way.
   */
  request(req: TunnelRequest): Promise<TunnelResponse>;
  readonly status: TunnelStatus;
  stats(): TunnelStats;
  /** Fails pending calls with `canceled`, closes the sockets; no reconnect after. */
  close(): void;
}
