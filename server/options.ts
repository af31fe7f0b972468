/**
 * Gateway options: every limit is a named option with a default, validated once at start
 * so that a bad configuration fails loudly before the port opens.
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { DEFAULT_SETTINGS, MAX_MAX_FRAME_PAYLOAD, MAX_WINDOW, MIN_MAX_FRAME_PAYLOAD } from "../protocol/index.js";
import { trustList } from "./client-address.js";
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
   * Origins (e.g. `https://app.example.com`) allowed to open a tunnel, compared exactly
   * (scheme, host and port); `["*"]` admits any origin. When empty, only the gateway's own
   * origin is admitted: `publicOrigin`, else `http://host:port` of the listen address (never
   * the client-sent Host). On a wildcard listen address with neither, browser upgrades are
   * refused with 403.
   */
  allowOrigins?: string[];
  /** The gateway's origin as browsers reach it (e.g. `https://app.example.com`), behind a proxy or CDN. */
  publicOrigin?: string;
  /**
   * Addresses or CIDRs of proxies whose `clientAddressHeader` is believed (e.g.
   * `["10.0.0.0/8", "::1"]`). Default none: the TCP peer is the client.
   */
  trustProxy?: string[];
  /**
   * Header a trusted proxy names the client in: `x-forwarded-for` (default), `forwarded`
   * (RFC 7239), or a one-address header such as `cf-connecting-ip` or `x-real-ip`.
   */
  clientAddressHeader?: string;
  /**
   * `host:port` of the admin listener serving /metrics, /healthz and /readyz (port 0 = any
   * free port). Default none: /metrics is not served; /healthz and /readyz stay on the
   * public port for load balancers.
   */
  adminListen?: string;
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
  /** Most header entries in one request (RST_STREAM HEADER_BLOCK_TOO_LARGE), as Envoy's default. Default 100. */
  maxHeaders?: number;
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
  /**
   * Sockets older than this, ms, get GOAWAY NO_ERROR so clients reconnect and load spreads
   * again after restarts (each socket's age is jittered by up to 10% either way); streams
   * still open after `drainTimeoutMs` more are closed. 0 = no limit (default).
   */
  maxSocketAgeMs?: number;
  /** How long accepted streams may run after a drain starts, ms. Default 30000. */
  drainTimeoutMs?: number;
  /** pino level. Default `"info"`. Ignored when `logger` is given. */
  logLevel?: string;
  /** A pino logger to use instead of a new one on stdout. */
  logger?: Logger;
}

/** Options after defaults were applied and values validated. */
type Optional = "descriptors" | "upstreamCa" | "authenticate" | "logger" | "publicOrigin" | "adminListen";
export type ResolvedOptions = Required<Omit<GatewayOptions, Optional>> & Pick<GatewayOptions, Optional>;

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
  trustProxy: [] as string[],
  clientAddressHeader: "x-forwarded-for",
  allowServices: [] as string[],
  maxSockets: 10_000,
  maxSocketsPerIp: 100,
  maxStreamsPerSocket: DEFAULT_SETTINGS.maxConcurrentStreams,
  maxHeaderBlockBytes: 64 << 10,
  maxHeaders: 100,
  maxFramePayload: DEFAULT_SETTINGS.maxFramePayload,
  maxMessageBytes: 4 << 20,
  idleTimeoutMs: 300_000,
  streamWindow: DEFAULT_SETTINGS.initialStreamWindow,
  connectionWindow: DEFAULT_SETTINGS.initialConnectionWindow,
  pingIntervalMs: DEFAULT_SETTINGS.pingIntervalMs,
  maxSocketAgeMs: 0,
  drainTimeoutMs: 30_000,
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
  if (o.allowOrigins.includes("*") && o.allowOrigins.length > 1) {
    throw new OptionsError(`allowOrigins "*" admits every origin; give it alone, got ${JSON.stringify(o.allowOrigins)}`);
  }
  o.allowOrigins = o.allowOrigins.map((origin) => (origin === "*" ? origin : exactOrigin("allowOrigins entry", origin)));
  if (o.publicOrigin !== undefined) o.publicOrigin = exactOrigin("publicOrigin", o.publicOrigin);
  try {
    trustList(o.trustProxy);
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  o.clientAddressHeader = o.clientAddressHeader.toLowerCase();
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(o.clientAddressHeader)) {
    throw new OptionsError(
      `clientAddressHeader must be a header name such as x-forwarded-for, got ${JSON.stringify(o.clientAddressHeader)}`,
    );
  }
  if (o.adminListen !== undefined) parseHostPort("adminListen", o.adminListen);
  for (const s of o.allowServices) {
    if (!SERVICE.test(s))
      throw new OptionsError(`allowServices entry ${JSON.stringify(s)} is not a fully-qualified service name such as pkg.v1.Service`);
  }
  if (!LEVELS.includes(o.logLevel))
    throw new OptionsError(`logLevel must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(o.logLevel)}`);
  int("port", o.port, 0, 65535);
  int("upstreamPingIntervalMs", o.upstreamPingIntervalMs, 0, 2 ** 31 - 1);
  int("maxSockets", o.maxSockets, 1, 2 ** 31 - 1);
  int("maxSocketsPerIp", o.maxSocketsPerIp, 1, 2 ** 31 - 1);
  int("maxStreamsPerSocket", o.maxStreamsPerSocket, 1, 2 ** 31 - 1);
  int("maxHeaderBlockBytes", o.maxHeaderBlockBytes, 64, MAX_MAX_FRAME_PAYLOAD);
  int("maxHeaders", o.maxHeaders, 1, 0xffff);
  int("maxFramePayload", o.maxFramePayload, MIN_MAX_FRAME_PAYLOAD, MAX_MAX_FRAME_PAYLOAD);
  int("maxMessageBytes", o.maxMessageBytes, 0, Number.MAX_SAFE_INTEGER);
  int("idleTimeoutMs", o.idleTimeoutMs, 0, 2 ** 31 - 1);
  int("streamWindow", o.streamWindow, 1, MAX_WINDOW);
  int("connectionWindow", o.connectionWindow, 1, MAX_WINDOW);
  int("pingIntervalMs", o.pingIntervalMs, 0, 2 ** 32 - 1);
  int("drainTimeoutMs", o.drainTimeoutMs, 0, 2 ** 31 - 1);
  int("maxSocketAgeMs", o.maxSocketAgeMs, 0, 2 ** 31 - 1);
  return o;
}

/** An origin given as an option: `scheme://host[:port]` with nothing after it. */
function exactOrigin(what: string, origin: string): string {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    throw new OptionsError(`${what} ${JSON.stringify(origin)} is not an origin such as https://app.example.com`);
  }
  if (parsed.origin === "null" || origin.replace(/\/$/, "").toLowerCase() !== parsed.origin.toLowerCase()) {
    throw new OptionsError(
      `${what} ${JSON.stringify(origin)} is not an origin such as https://app.example.com (scheme, host and port only)`,
    );
  }
  return parsed.origin;
}

/** `host:port` or `[v6]:port` (an empty host = every interface); throws OptionsError naming `what`. */
export function parseHostPort(what: string, value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!m || Number(m[3]) > 65535) {
    throw new OptionsError(`${what} must be host:port (e.g. 127.0.0.1:9090 or [::1]:9090), got ${JSON.stringify(value)}`);
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port: Number(m[3]) };
}

/**
 * A duration such as `500ms`, `90s`, `30m`, `12h` or `1d`, in ms; throws OptionsError
 * naming `what`. A bare number is refused: its unit would be a guess.
 */
export function parseDuration(what: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) throw new OptionsError(`${what} must be a duration such as 500ms, 90s, 30m or 12h, got ${JSON.stringify(value)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "ms"];
  return Math.round(Number(m[1]) * unit);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
