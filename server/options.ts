/**
 * Gateway options: every limit is a named option with a default, validated once at start
 * so that a bad configuration fails loudly before the port opens.
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { DEFAULT_SETTINGS, MAX_MAX_FRAME_PAYLOAD, MAX_WINDOW, MIN_MAX_FRAME_PAYLOAD } from "../protocol/index.js";
import type { UpstreamProtocol } from "./exchange.js";

/** Options of {@link createGateway}. Only `upstream` is required. */
export interface GatewayOptions {
  /** Backend URL: `http://host:port` (h2c, prior knowledge) or `https://host:port` (TLS). */
  upstream: string;
  /** What the backend speaks. Default `"grpc"`. */
  upstreamProtocol?: UpstreamProtocol;
  /** Binary FileDescriptorSet handed to the adapters (Connect JSON to a gRPC backend). */
  descriptors?: Uint8Array;
  /** PEM CA bundle trusted for an `https://` upstream (default: the system CAs). */
  upstreamCa?: string | Buffer;
  /** Skip TLS certificate checks for an `https://` upstream. Default false. */
  upstreamInsecure?: boolean;
  /** HTTP/2 PING interval towards the upstream, ms; a PING unanswered for two intervals closes the session (0 = off). Default 30000. */
  upstreamPingIntervalMs?: number;
  /** Interface to listen on. Default `"127.0.0.1"`. */
  host?: string;
  /** Port to listen on (0 = any free port). Default 8080. */
  port?: number;
  /** Path of the WebSocket upgrade. Default `"/tunnel"`. */
  path?: string;
  /**
   * Origins (e.g. `https://app.example.com`) allowed to open a tunnel. When empty, only the
   * gateway's own origin is allowed: the Origin's host must equal the request's Host.
   */
  allowOrigins?: string[];
  /**
   * Admit upgrades without an Origin header. Default true: browsers always send Origin on
   * a WebSocket upgrade, so a request without one is not a cross-site page; it is a
   * non-browser client (a Node client, a test, a CLI), which Origin checks cannot stop anyway.
   */
  allowNoOrigin?: boolean;
  /** `pkg.Service` names clients may call; empty = every service. Others: RST_STREAM FORBIDDEN. */
  allowServices?: string[];
  /** Extra admission check on the upgrade request; false answers 403. */
  authenticate?: (request: IncomingMessage) => boolean | Promise<boolean>;
  /** Open tunnel sockets in total; more get HTTP 503. Default 10000. */
  maxSockets?: number;
  /** Open tunnel sockets per client IP; more get HTTP 503. Default 100. */
  maxSocketsPerIp?: number;
  /** Streams open at once on one socket (SETTINGS MAX_CONCURRENT_STREAMS). Default 100. */
  maxStreamsPerSocket?: number;
  /** Largest request header block, bytes (RST_STREAM HEADER_BLOCK_TOO_LARGE). Default 65536. */
  maxHeaderBlockBytes?: number;
  /** Largest frame payload accepted and announced (GOAWAY FRAME_SIZE_ERROR). Default 65536. */
  maxFramePayload?: number;
  /**
   * Largest message, bytes, in either direction (RST_STREAM MESSAGE_TOO_LARGE). For enveloped
   * bodies (gRPC, gRPC-Web, Connect streaming) each length-prefixed message is checked; for
   * other bodies (Connect unary, gRPC-Web text) the whole body. Default 4 MiB; 0 = no limit.
   */
  maxMessageBytes?: number;
  /** Close a socket with no open stream for this long, ms (GOAWAY IDLE_TIMEOUT; 0 = never). Default 300000. */
  idleTimeoutMs?: number;
  /** Receive window per stream announced to clients, bytes. Default 1 MiB. */
  streamWindow?: number;
  /** Receive window per socket announced to clients, bytes. Default 8 MiB. */
  connectionWindow?: number;
  /** PING interval on tunnel sockets, ms; two unanswered PINGs close the socket (0 = off). Default 25000. */
  pingIntervalMs?: number;
  /** How long accepted streams may run after a drain starts, ms. Default 30000. */
  drainTimeoutMs?: number;
  /**
   * Share of successful calls that get a request log line (`msg: "call"`: method, status,
   * duration, bytes in/out, client address, trace id), from 0 (none) to 1 (every call).
   * Failed calls (a non-OK gRPC status, an HTTP status >= 400, a reset) are always logged.
   * Default 0.01. The lines are at level info.
   */
  logSampleRate?: number;
  /** pino level. Default `"info"`. Ignored when `logger` is given. */
  logLevel?: string;
  /** A pino logger to use instead of a new one on stdout. */
  logger?: Logger;
}

/** Options after defaults were applied and values validated. */
export type ResolvedOptions = Required<Omit<GatewayOptions, "descriptors" | "upstreamCa" | "authenticate" | "logger">> &
  Pick<GatewayOptions, "descriptors" | "upstreamCa" | "authenticate" | "logger">;

/** Default value of every limit and setting. */
export const DEFAULT_OPTIONS = Object.freeze({
  upstreamProtocol: "grpc" as UpstreamProtocol,
  upstreamInsecure: false,
  upstreamPingIntervalMs: 30_000,
  host: "127.0.0.1",
  port: 8080,
  path: "/tunnel",
  allowOrigins: [] as string[],
  allowNoOrigin: true,
  allowServices: [] as string[],
  maxSockets: 10_000,
  maxSocketsPerIp: 100,
  maxStreamsPerSocket: DEFAULT_SETTINGS.maxConcurrentStreams,
  maxHeaderBlockBytes: 64 << 10,
  maxFramePayload: DEFAULT_SETTINGS.maxFramePayload,
  maxMessageBytes: 4 << 20,
  idleTimeoutMs: 300_000,
  streamWindow: DEFAULT_SETTINGS.initialStreamWindow,
  connectionWindow: DEFAULT_SETTINGS.initialConnectionWindow,
  pingIntervalMs: DEFAULT_SETTINGS.pingIntervalMs,
  drainTimeoutMs: 30_000,
  logSampleRate: 0.01,
  logLevel: "info",
});

/** Thrown for a bad option; the message names the option and what is allowed. */
export class OptionsError extends Error {
  override readonly name = "OptionsError";
}

const SERVICE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function int(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Applies defaults and validates; throws OptionsError naming the first bad option. */
export function resolveOptions(options: GatewayOptions): ResolvedOptions {
  const o = { ...DEFAULT_OPTIONS, ...stripUndefined(options) } as ResolvedOptions;
  let url: URL;
  try {
    url = new URL(o.upstream);
  } catch {
    throw new OptionsError(`upstream must be a URL such as http://127.0.0.1:50051, got ${JSON.stringify(o.upstream)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OptionsError(`upstream must start with http:// (h2c) or https:// (TLS), got ${url.protocol}`);
  }
  if (url.pathname !== "/" || url.search) throw new OptionsError(`upstream must have no path or query, got ${o.upstream}`);
  if (o.upstreamProtocol !== "grpc" && o.upstreamProtocol !== "connect") {
    throw new OptionsError(`upstreamProtocol must be "grpc" or "connect", got ${JSON.stringify(o.upstreamProtocol)}`);
  }
  if (!o.path.startsWith("/")) throw new OptionsError(`path must start with "/", got ${JSON.stringify(o.path)}`);
  o.allowOrigins = o.allowOrigins.map((origin) => {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new OptionsError(`allowOrigins entry ${JSON.stringify(origin)} is not an origin such as https://app.example.com`);
    }
    return parsed.origin;
  });
  for (const s of o.allowServices) {
    if (!SERVICE.test(s))
      throw new OptionsError(`allowServices entry ${JSON.stringify(s)} is not a fully-qualified service name such as pkg.v1.Service`);
  }
  if (!LEVELS.includes(o.logLevel))
    throw new OptionsError(`logLevel must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(o.logLevel)}`);
  if (typeof o.logSampleRate !== "number" || !(o.logSampleRate >= 0 && o.logSampleRate <= 1))
    throw new OptionsError(`logSampleRate must be a number from 0 to 1, got ${JSON.stringify(o.logSampleRate)}`);
  int("port", o.port, 0, 65535);
  int("upstreamPingIntervalMs", o.upstreamPingIntervalMs, 0, 2 ** 31 - 1);
  int("maxSockets", o.maxSockets, 1, 2 ** 31 - 1);
  int("maxSocketsPerIp", o.maxSocketsPerIp, 1, 2 ** 31 - 1);
  int("maxStreamsPerSocket", o.maxStreamsPerSocket, 1, 2 ** 31 - 1);
  int("maxHeaderBlockBytes", o.maxHeaderBlockBytes, 64, MAX_MAX_FRAME_PAYLOAD);
  int("maxFramePayload", o.maxFramePayload, MIN_MAX_FRAME_PAYLOAD, MAX_MAX_FRAME_PAYLOAD);
  int("maxMessageBytes", o.maxMessageBytes, 0, Number.MAX_SAFE_INTEGER);
  int("idleTimeoutMs", o.idleTimeoutMs, 0, 2 ** 31 - 1);
  int("streamWindow", o.streamWindow, 1, MAX_WINDOW);
  int("connectionWindow", o.connectionWindow, 1, MAX_WINDOW);
  int("pingIntervalMs", o.pingIntervalMs, 0, 2 ** 32 - 1);
  int("drainTimeoutMs", o.drainTimeoutMs, 0, 2 ** 31 - 1);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
