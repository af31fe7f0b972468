/**
 * HTTP/2 session pool towards the one configured upstream. Implements `Upstream`:
 * sessions are shared, replaced when they close, fail or receive GOAWAY, kept alive with
 * PINGs, and widened with one more session when every session is at the backend's
 * MAX_CONCURRENT_STREAMS. Bodies stream both ways with back-pressure: the request body is
 * pulled only as the HTTP/2 stream drains, and the response body is read only when pulled,
 * so HTTP/2 flow control reaches the backend.
 */
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { once } from "node:events";
import type { Logger } from "pino";
import type { HeaderList } from "../../protocol/index.js";
import { UpstreamError, type ProxyRequest, type ProxyResponse } from "../exchange.js";
import { EMPTY_BODY } from "../body.js";
import { fromHttp2Headers, toHttp2RequestHeaders } from "./headers.js";
import { traceHook } from "../../protocol/trace.js";

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, HTTP2_HEADER_STATUS } = http2.constants;

/** Keepalive: a session is closed once its PING went unanswered for this many intervals. */
const MAX_MISSED_PINGS = 2;

export interface UpstreamPoolOptions {
  /** `http://host:port` (h2c prior knowledge) or `https://host:port`. */
  url: string;
  /** PEM CA for TLS upstreams. */
  ca?: string | Buffer;
  /** Skip TLS certificate verification. */
  insecure?: boolean;
  /** PING each session this often, ms; a PING unanswered for two intervals closes it (0 = off). */
  pingIntervalMs?: number;
  log?: Logger;
  /** Called with the number of open sessions whenever it changes. */
  onSessionCount?: (count: number) => void;
  /**
   * HTTP/2 receive window per upstream stream, bytes: how much of a response the backend
   * may send ahead of the gateway's reading. Default 1 MiB. node's own default (64 KiB)
   * caps a stream at one window per round trip to the backend.
   */
  streamWindow?: number;
  /** HTTP/2 receive window per upstream session, bytes. Default 8 MiB. */
  connectionWindow?: number;
  /**
   * Largest HTTP/2 DATA frame the backend may send, bytes (16384..16777215). Default 65536:
   * each upstream chunk then fills a whole tunnel DATA frame rather than a quarter of one.
   */
  maxFrameSize?: number;
}

interface Entry {
  session: ClientHttp2Session;
  /** Streams started or reserved on this session. */
  active: number;
  /** Resolves once the backend's SETTINGS arrived (its stream limit is known). */
  ready: Promise<void>;
  /** The backend's SETTINGS arrived. */
  connected: boolean;
  closed: boolean;
}

/** Maps an HTTP/2 reset code from the upstream to the error the client sees. */
export function upstreamErrorFromReset(rstCode: number | undefined, context: string, sessionLost = false): UpstreamError {
  // node closes the streams of a lost session with CANCEL; the client did not cancel anything.
  if (sessionLost) return new UpstreamError("unavailable", `${context}: the upstream connection was lost`);
  if (rstCode === NGHTTP2_REFUSED_STREAM) return new UpstreamError("unavailable", `${context}: upstream refused the stream`);
  if (rstCode === NGHTTP2_CANCEL) return new UpstreamError("canceled", `${context}: upstream cancelled the stream`);
  return new UpstreamError("internal", `${context}: upstream reset the stream with HTTP/2 code ${rstCode ?? "unknown"}`);
}

export class UpstreamPool {
  private readonly entries: Entry[] = [];
  private closing = false;

  constructor(private readonly options: UpstreamPoolOptions) {}

  /** Open sessions (connected or connecting). */
  get sessionCount(): number {
    return this.entries.length;
  }

  /** The `Upstream` function the adapters call. */
  readonly request = (req: ProxyRequest): Promise<ProxyResponse> => this.send(req);

  /** Closes every session; requests in flight fail. */
  close(): void {
    this.closing = true;
    for (const e of [...this.entries]) e.session.destroy();
  }

  private probing: Promise<boolean> | undefined;

  /**
   * True when the upstream can be reached: a session is connected, or a new one connects
   * within `timeoutMs`. Concurrent probes share one attempt (a flood of /readyz requests
   * opens at most one connection attempt at a time).
   */
  probe(timeoutMs = 2000): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    if (this.entries.some((e) => e.connected && !e.closed)) return Promise.resolve(true);
    this.probing ??= (async () => {
      const entry = this.entries.find((e) => !e.closed) ?? this.connect();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
      });
      try {
        return await Promise.race([entry.ready.then(() => true), timeout]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
        this.probing = undefined;
      }
    })();
    return this.probing;
  }

  private limitOf(e: Entry): number {
    // Before the peer's SETTINGS arrive node reports a default of 100 (the RFC's advice);
    // a backend announcing 0 still gets one stream, which nghttp2 holds until it may go.
    if (!e.connected) return 100;
    const max = e.session.remoteSettings.maxConcurrentStreams ?? 100;
    return Math.max(1, Math.min(max, 1 << 20));
  }

  private acquire(): Entry {
    if (this.closing) throw new UpstreamError("unavailable", "gateway is shutting down");
    let entry = this.entries.find((e) => !e.closed && e.active < this.limitOf(e));
    entry ??= this.connect();
    entry.active++;
    return entry;
  }

  private connect(): Entry {
    const {
      url,
      ca,
      insecure,
      pingIntervalMs = 30_000,
      log,
      streamWindow = 1 << 20,
      connectionWindow = 8 << 20,
      maxFrameSize = 1 << 16,
    } = this.options;
    const settings: http2.Settings = {
      initialWindowSize: streamWindow,
      maxFrameSize: Math.min(Math.max(maxFrameSize, 16_384), 16_777_215),
    };
    const session = http2.connect(
      url,
      url.startsWith("https:") ? { ca, rejectUnauthorized: !insecure, ALPNProtocols: ["h2"], settings } : { settings },
    );
    // The session window is not a SETTINGS value: it grows with a WINDOW_UPDATE on stream 0.
    if (connectionWindow > 65_535) session.once("connect", () => session.destroyed || session.setLocalWindowSize(connectionWindow));
    const entry: Entry = { session, active: 0, connected: false, closed: false, ready: undefined as unknown as Promise<void> };
    entry.ready = new Promise<void>((resolve, reject) => {
      // Not 'connect': it fires before the backend's SETTINGS, while node still reports a
      // default stream limit of 100, so requests would pile up past the real limit.
      session.once("remoteSettings", () => {
        entry.connected = true;
        log?.debug({ upstream: url, maxConcurrentStreams: session.remoteSettings.maxConcurrentStreams }, "upstream session connected");
        resolve();
      });
      // Clients see what failed, never where the backend is: the address goes to the log only.
      session.once("error", (err) => {
        log?.warn({ upstream: url, err: err.message }, "cannot reach the upstream");
        reject(new UpstreamError("unavailable", `cannot reach the upstream (${errorKind(err)})${tlsHint(err)}`));
      });
      session.once("close", () => reject(new UpstreamError("unavailable", "the upstream closed the connection")));
    });
    entry.ready.catch(() => {}); // observed by each request
    let timer: NodeJS.Timeout | undefined;
    if (pingIntervalMs > 0) {
      // node's ping() has no timeout: a PING still unanswered two intervals later means the
      // backend (or the path to it) is gone, so the session is replaced. Two, not one: after
      // an event-loop stall the timer runs before the ack waiting in the socket is read.
      let pingPending = false;
      let missed = 0;
      timer = setInterval(() => {
        if (!entry.connected || session.destroyed) return;
        if (pingPending) {
          if (++missed < MAX_MISSED_PINGS) return;
          log?.warn(
            { upstream: url, pingIntervalMs },
            `upstream did not answer a PING for ${MAX_MISSED_PINGS} ping intervals; closing session`,
          );
          session.destroy();
          return;
        }
        pingPending = true;
        session.ping((err) => {
          pingPending = false;
          missed = 0;
          if (err && !session.destroyed) {
            log?.warn({ upstream: url, err: err.message }, "upstream ping failed; closing session");
            session.destroy();
          }
        });
      }, pingIntervalMs);
      timer.unref();
    }
    const retire = () => {
      if (entry.closed) return;
      entry.closed = true;
      clearInterval(timer);
      const i = this.entries.indexOf(entry);
      if (i >= 0) this.entries.splice(i, 1);
      this.options.onSessionCount?.(this.entries.length);
    };
    session.on("error", (err) => log?.warn({ upstream: url, err: err.message }, "upstream session error"));
    session.on("goaway", retire); // in-flight streams finish; new ones go to a new session
    session.on("close", retire);
    session.unref(); // an idle pool must not keep the process alive
    this.entries.push(entry);
    this.options.onSessionCount?.(this.entries.length);
    return entry;
  }

  private async send(req: ProxyRequest): Promise<ProxyResponse> {
    let entry = this.acquire();
    for (;;) {
      try {
        await entry.ready;
      } catch (err) {
        entry.active--;
        throw err;
      }
      // Reserved before the backend's SETTINGS told its stream limit: the excess moves to
      // another session rather than queueing inside nghttp2 behind the limit.
      if (entry.closed || entry.active <= this.limitOf(entry)) break;
      entry.active--;
      entry = this.acquire();
    }
    const session = entry.session;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        entry.active--;
      }
    };
    if (req.signal.aborted) {
      release();
      throw new UpstreamError("canceled", "the client cancelled the call before it reached the upstream");
    }
    const headers = toHttp2RequestHeaders(req.method, req.path, req.headers);
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: false });
      traceHook?.("g.up.req");
    } catch (err) {
      release();
      throw new UpstreamError("unavailable", `cannot start a request on the upstream session: ${(err as Error).message}`);
    }
    stream.once("close", release);
    stream.on("error", () => {}); // reported through the head promise or the body iterator
    const onAbort = () => {
      if (!stream.closed) stream.close(NGHTTP2_CANCEL);
    };
    req.signal.addEventListener("abort", onAbort, { once: true });
    stream.once("close", () => req.signal.removeEventListener("abort", onAbort));
    void pumpBody(req.body, stream);

    let trailers: HeaderList | undefined;
    let trailerError: UpstreamError | undefined;
    stream.once("trailers", (t: IncomingHttpHeaders) => {
      try {
        trailers = fromHttp2Headers(t);
      } catch (err) {
        trailers = [];
        trailerError = new UpstreamError("internal", `${req.path}: upstream trailers: ${(err as Error).message}`);
      }
    });
    const head = await new Promise<{ headers: IncomingHttpHeaders; endStream: boolean }>((resolve, reject) => {
      const fail = () => {
        if (req.signal.aborted) reject(new UpstreamError("canceled", "the client cancelled the call"));
        else reject(upstreamErrorFromReset(stream.rstCode, `${req.path}`, session.destroyed));
      };
      stream.once("response", (h, flags: number) => {
        traceHook?.("g.up.resp");
        stream.off("close", fail);
        stream.off("error", fail);
        resolve({ headers: h, endStream: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 });
      });
      stream.once("error", fail);
      stream.once("close", fail);
    });
    const status = Number(head.headers[HTTP2_HEADER_STATUS]);
    const path = req.path;
    // A trailers-only response: the tunnel ends the stream on its HEADERS frame.
    let responseHeaders: HeaderList;
    try {
      responseHeaders = fromHttp2Headers(head.headers);
    } catch (err) {
      if (!stream.closed) stream.close(NGHTTP2_CANCEL);
      throw new UpstreamError("internal", `${path}: upstream response headers: ${(err as Error).message}`);
    }
    const body = head.endStream
      ? (stream.resume(), EMPTY_BODY)
      : readBody(
          stream,
          session,
          req.signal,
          path,
          () => trailers !== undefined,
          () => trailerError,
        );
    return { status, headers: responseHeaders, body, trailers: () => trailers ?? [] };
  }
}

/** Writes the request body with back-pressure; a failed body cancels the HTTP/2 stream. */
async function pumpBody(body: AsyncIterable<Uint8Array>, stream: ClientHttp2Stream): Promise<void> {
  try {
    for await (const chunk of body) {
      if (stream.destroyed) return;
      if (!stream.write(chunk)) {
        // Remove the loser's listeners, or every wait leaves one behind on the stream.
        const done = new AbortController();
        await Promise.race([once(stream, "drain", { signal: done.signal }), once(stream, "close", { signal: done.signal })]);
        done.abort();
      }
    }
    if (!stream.destroyed) stream.end();
    traceHook?.("g.up.end");
  } catch {
    if (!stream.closed) stream.close(NGHTTP2_CANCEL);
  }
}

/** The response body, read only when pulled; upstream resets become UpstreamError. */
async function* readBody(
  stream: ClientHttp2Stream,
  session: ClientHttp2Session,
  signal: AbortSignal,
  path: string,
  gotTrailers: () => boolean,
  trailerError: () => UpstreamError | undefined,
): AsyncGenerator<Uint8Array> {
  let ended = false;
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
    ended = true;
  } catch {
    if (signal.aborted) throw new UpstreamError("canceled", "the client cancelled the call");
    throw upstreamErrorFromReset(stream.rstCode, path, session.destroyed);
  } finally {
    // Stopped early (reset, limit, socket lost): cancel upstream so the backend stops.
    if (!ended && !stream.closed) stream.close(NGHTTP2_CANCEL);
  }
  traceHook?.("g.up.last");
  // A body ended by trailers: node emitted 'trailers' (a nextTick queued when the trailing
  // HEADERS were read) before the end. A body ended by END_STREAM on DATA has none, but a
  // reset may be on its way: give it one event-loop turn to arrive, unless the stream
  // closed already (its rstCode is then final).
  if (!gotTrailers() && !stream.closed) await new Promise((resolve) => setImmediate(resolve));
  const bad = trailerError();
  if (bad) throw bad;
  if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
    throw upstreamErrorFromReset(stream.rstCode, path, session.destroyed);
  }
}

/** The kind of a connection failure (`ECONNREFUSED`), without the address node puts in its message. */
function errorKind(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === "string" && /^[A-Z0-9_]+$/.test(code) ? code : "connection failed";
}

/** What to do about a TLS certificate the gateway does not trust. */
function tlsHint(err: Error): string {
  const code = String((err as NodeJS.ErrnoException).code ?? "");
  if (!/CERT|SIGNED|VERIFY|ALTNAME/.test(code)) return "";
  return " (set upstreamCa / --upstream-ca to the PEM CA that signed the backend's certificate)";
}
