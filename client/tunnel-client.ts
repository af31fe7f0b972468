/**
 * The tunnel client: hands calls to sessions. Connects lazily on the first call, queues
 * calls (FIFO) while there is no connection or the gateway's MAX_CONCURRENT_STREAMS is
 * reached, moves calls the gateway never processed (GOAWAY) to a new socket, and backs off
 * with jitter while the gateway cannot be reached.
 */
import { Code } from "./code.js";
import { ErrorCode, checkRequestHead, type HeaderList } from "../protocol/index.js";
import { type Backoff, backoffDelay, resolveBackoff } from "./backoff.js";
import { BodySource } from "./body-source.js";
import { replayOrFail } from "./replay.js";
import type { ClientStream, StreamInit } from "./client-stream.js";
import { TunnelError, canceledError, unreachableError } from "./errors.js";
import { TunnelSession, type SessionEvents } from "./session.js";
import type {
  TunnelClient,
  TunnelClientOptions,
  TunnelRequest,
  TunnelResponse,
  TunnelStats,
  TunnelStatus,
  WebSocketConstructorLike,
} from "./types.js";

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  streamWindow: 1_048_576, // 1 MiB (literals: see MAX_REPLAY_BYTES in replay.ts)
  connectionWindow: 8_388_608, // 8 MiB
};

/** Creates a tunnel client. Nothing connects until the first request. */
export function createTunnelClient(options: TunnelClientOptions): TunnelClient {
  return new Client(options);
}

/** One request() call; it may run on several streams in turn (GOAWAY retry). */
class Call implements StreamInit {
  stream: ClientStream | null = null;
  /** Bounds the wait for a connection (not for a free stream slot). */
  waitTimer: ReturnType<typeof setTimeout> | undefined;
  private settled = false;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: HeaderList,
    readonly source: BodySource,
    private readonly resolve: (response: TunnelResponse) => void,
    private readonly reject: (error: TunnelError) => void,
  ) {}

  /** The caller has its answer (a response head or an error). */
  get isSettled(): boolean {
    return this.settled;
  }

  onHead(response: TunnelResponse): void {
    this.source.accepted();
    if (this.settled) return;
    this.settled = true;
    this.resolve(response);
  }

  onError(error: TunnelError): void {
    clearTimeout(this.waitTimer);
    if (this.settled) return;
    this.settled = true;
    this.source.cancel();
    this.reject(error);
  }
}

class Client implements TunnelClient {
  private _status: TunnelStatus = "connecting";
  private current: TunnelSession | null = null;
  private readonly sessions = new Set<TunnelSession>();
  private queue: Call[] = [];
  private closed = false;
  private everConnected = false;
  /**
   * Set when the gateway drained the current socket, cleared once a new one is ready. A
   * drain means a restart or hand-over, so failed connect attempts in between (503 from the
   * draining instance, a refused port before its successor listens) do not fail waiting
   * calls; each still gives up after connectTimeoutMs.
   */
  private awaitingSuccessor = false;
  /** Consecutive connect attempts that failed. */
  private failures = 0;
  private nextAttemptAt = 0;
  private backoffTimer: ReturnType<typeof setTimeout> | undefined;
  private pumpScheduled = false;
  private socketsOpened = 0;
  private callsStarted = 0;
  private readonly WebSocket: WebSocketConstructorLike;
  private readonly connectTimeoutMs: number;
  private readonly backoff: Backoff;
  private readonly events: SessionEvents;

  constructor(private readonly options: TunnelClientOptions) {
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
    if (!WS)
      throw new TypeError("createTunnelClient: no WebSocket constructor; pass options.WebSocket (e.g. the `ws` package's WebSocket)");
    if (!/^wss?:\/\//i.test(options.url))
      throw new TypeError(`createTunnelClient: url must start with ws:// or wss://, got ${JSON.stringify(options.url)}`);
    this.WebSocket = WS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    this.backoff = resolveBackoff(options.reconnect);
    this.events = {
      ready: (s) => this.onReady(s),
      streamClosed: () => this.schedulePump(),
      draining: (s, unaccepted) => this.onDraining(s, unaccepted),
      closed: (s, error, wasReady) => this.onClosed(s, error, wasReady),
    };
  }

  get status(): TunnelStatus {
    return this._status;
  }

  stats(): TunnelStats {
    let streamsOpen = 0;
    for (const s of this.sessions) streamsOpen += s.openStreams;
    return {
      streamsOpen,
      streamsQueued: this.queue.length,
      sockets: this.sessions.size,
      callsStarted: this.callsStarted,
      reconnects: Math.max(0, this.socketsOpened - 1),
    };
  }

  request(req: TunnelRequest): Promise<TunnelResponse> {
    this.callsStarted++;
    if (this.closed) return Promise.reject(canceledError("the tunnel client is closed; create a new one"));
    if (req.signal?.aborted) return Promise.reject(canceledError("the call was aborted before it started"));
    const headers = toHeaderList(req.headers);
    try {
      // Validate once here so that a bad request never takes a stream id.
      checkRequestHead(req.method, req.path, headers);
    } catch (e) {
      return Promise.reject(new TunnelError(`invalid tunnel request: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument));
    }
    return new Promise<TunnelResponse>((resolve, reject) => {
      const call = new Call(req.method, req.path, headers, BodySource.from(req.body), resolve, reject);
      req.signal?.addEventListener("abort", () => this.abort(call), { once: true });
      this.queue.push(call);
      this.pump();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.backoffTimer);
    const error = canceledError("the tunnel client was closed");
    const queued = this.queue;
    this.queue = [];
    for (const call of queued) call.onError(error);
    for (const s of [...this.sessions]) s.close(error, { code: ErrorCode.NO_ERROR, message: "client closed" });
    this.current = null;
    this.setStatus("closed");
  }

  private abort(call: Call): void {
    // Connect aborts every call's signal once the call is over: do nothing (and build no
    // error, whose stack trace is costly) for a call that has already ended.
    if (call.stream ? call.stream.done : call.isSettled) return;
    const error = canceledError("the call was aborted");
    if (call.stream) {
      call.stream.cancel(error);
      return;
    }
    const i = this.queue.indexOf(call);
    if (i >= 0) this.queue.splice(i, 1);
    call.onError(error);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Starts queued calls on the current session, connecting first if needed. */
  private pump(): void {
    if (this.closed) return;
    while (this.queue.length > 0 && this.current?.canOpen) {
      const call = this.queue.shift()!;
      clearTimeout(call.waitTimer);
      call.waitTimer = undefined;
      call.stream = this.current.open(call);
    }
    if (this.queue.length === 0) return;
    if (this.current?.state === "open") return; // at MAX_CONCURRENT_STREAMS: wait for a slot
    if (!this.current) this.connectWhenAllowed();
    for (const call of this.queue) {
      call.waitTimer ??= setTimeout(() => this.giveUpWaiting(call), this.connectTimeoutMs);
    }
  }

  private giveUpWaiting(call: Call): void {
    const i = this.queue.indexOf(call);
    if (i < 0) return;
    this.queue.splice(i, 1);
    call.onError(unreachableError(`no tunnel connection to ${this.options.url} within ${this.connectTimeoutMs} ms (connectTimeoutMs)`));
  }

  private connectWhenAllowed(): void {
    if (this.current || this.backoffTimer !== undefined) return;
    const wait = this.nextAttemptAt - Date.now();
    if (wait > 0) {
      this.backoffTimer = setTimeout(() => {
        this.backoffTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    this.socketsOpened++;
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    const session = new TunnelSession(
      {
        url: this.options.url,
        WebSocket: this.WebSocket,
        connectTimeoutMs: this.connectTimeoutMs,
        streamWindow: this.options.streamWindow ?? DEFAULTS.streamWindow,
        connectionWindow: this.options.connectionWindow ?? DEFAULTS.connectionWindow,
        batchFrames: this.options.batchFrames ?? true,
      },
      this.events,
    );
    this.current = session;
    this.sessions.add(session);
  }

  private onReady(session: TunnelSession): void {
    if (session !== this.current) return;
    this.everConnected = true;
    this.awaitingSuccessor = false;
    this.failures = 0;
    this.setStatus("connected");
    // Calls now wait for a stream slot at most, which has no deadline.
    for (const call of this.queue) {
      clearTimeout(call.waitTimer);
      call.waitTimer = undefined;
    }
    this.pump();
  }

  private onDraining(session: TunnelSession, unaccepted: StreamInit[]): void {
    if (session === this.current) {
      this.current = null;
      this.awaitingSuccessor = true;
    }
    const calls = unaccepted as Call[];
    for (const call of calls) call.stream = null;
    // Replayable calls run again first, ahead of the queue; the others fail (replay.ts).
    this.queue.unshift(...replayOrFail(calls, (call, error) => call.onError(error)));
    if (!this.closed && !this.current) this.setStatus("reconnecting");
    this.schedulePump();
  }

  private onClosed(session: TunnelSession, error: TunnelError, wasReady: boolean): void {
    this.sessions.delete(session);
    if (session !== this.current || this.closed) return;
    this.current = null;
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    if (wasReady) {
      // A working socket went away: the next call may reconnect at once.
      this.nextAttemptAt = 0;
    } else {
      this.failures++;
      const delay = backoffDelay(this.failures, this.backoff);
      this.nextAttemptAt = Date.now() + delay;
      // After a drain, waiting calls keep waiting (bounded by connectTimeoutMs) for the successor.
      if (this.awaitingSuccessor) return this.schedulePump();
      // Otherwise calls waiting for this connection fail now rather than wait for the next attempt.
      const waiting = this.queue;
      this.queue = [];
      const failed = new TunnelError(`${error.rawMessage}; next attempt in ${delay} ms or later`, Code.Unavailable);
      for (const call of waiting) call.onError(failed);
    }
    this.schedulePump();
  }

  private setStatus(status: TunnelStatus): void {
    if (this._status === status || (this._status === "closed" && status !== "closed")) return;
    this._status = status;
    try {
      this.options.onStatus?.(status);
    } catch {
      // a status listener's failure must not break the tunnel
    }
  }
}

/** Headers or a header list as a lowercase header list. */
function toHeaderList(headers: HeaderList | Headers): HeaderList {
  const list: HeaderList = [];
  if (Array.isArray(headers)) {
    for (const [name, value] of headers) list.push([name.toLowerCase(), value]);
  } else {
    headers.forEach((value, name) => list.push([name, value]));
  }
  return list;
}
