/**
 * Gateway options: every limit is a named option with a default, validated once at start
 * so that a bad configuration fails loudly before the port opens.
 *
 * One table, {@link OPTION_SPECS}, is the only place a default, a CLI flag, its
 * `SWTUNNEL_*` environment variable, its value placeholder, its range and its help text
 * are written; `DEFAULT_OPTIONS`, the validation below and `swtunnel gateway --help` are
 * all derived from it, so they cannot drift.
 *
 * Adding an option: add its typed, documented field to {@link GatewayOptions}, then ONE
 * entry to OPTION_SPECS, e.g.
 *   { key: "maxFoo", flag: "max-foo", kind: "int", value: "N", default: 10, min: 1, max: 1000, doc: "most foos at once" },
 * The CLI flag (`--max-foo N`), the env var (`SWTUNNEL_MAX_FOO`), the default in
 * DEFAULT_OPTIONS, the range check and the help line follow from that entry. Leave `flag`
 * out for a library-only option; use kind "file" for a path whose contents the option holds
 * (read by the CLI); checks a range cannot say go into `resolveOptions`.
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { DEFAULT_SETTINGS, MAX_MAX_FRAME_PAYLOAD, MAX_WINDOW, MIN_MAX_FRAME_PAYLOAD } from "../protocol/index.js";
import { trustList } from "./client-address.js";
import type { UpstreamProtocol } from "./exchange.js";
import type { LogFormat } from "./log.js";

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
  /**
   * PEM certificate chain: with `tlsKey`, the gateway serves HTTPS and `wss://` itself
   * (TLS in the gateway rather than at a proxy). Both or neither.
   */
  tlsCert?: string | Buffer;
  /** PEM private key of `tlsCert`. */
  tlsKey?: string | Buffer;
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
  /** Open tunnel sockets per client IP; more get HTTP 429. Default 100. */
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
  /**
   * Response bytes one stream may have queued in the gateway for a socket that is not being
   * read, whatever windows the client announced. At the cap the stream stops reading its
   * upstream, so HTTP/2 flow control reaches the backend. Default 1 MiB.
   */
  maxStreamBufferedBytes?: number;
  /**
   * Bytes one socket may have queued for writing (`ws` `bufferedAmount`); at the cap every
   * stream on it stops sending DATA and reading its upstream. Default 4 MiB.
   */
  maxSocketBufferedBytes?: number;
  /**
   * Control frames (PONG, RST_STREAM, WINDOW_UPDATE) one socket may have waiting in the
   * gateway's queue (not yet taken by the kernel); one more ends the socket with GOAWAY
   * ENHANCE_YOUR_CALM (a PING flood from a client that does not read). Default 1000, as
   * nghttp2's max_outbound_ack.
   */
  maxQueuedControlFrames?: number;
  /**
   * Stream errors one socket may cause over its life (RST_STREAM the gateway sends because
   * of the client's frames: protocol violations, limit breaches, streams over the
   * concurrency limit, forbidden services); one more ends the socket with GOAWAY
   * ENHANCE_YOUR_CALM. Default 1000.
   */
  maxStreamErrorsPerSocket?: number;
  /**
   * A stream with no frame in either direction for this long, ms, ends with
   * DEADLINE_EXCEEDED (as Envoy's stream_idle_timeout; 0 = never). Default 300000.
   */
  streamIdleTimeoutMs?: number;
  /** Longest a call may run, ms, whatever deadline it asks for (as Envoy's route timeout; 0 = no limit). Default 0. */
  maxCallDurationMs?: number;
  /** A socket must send its SETTINGS this soon after the upgrade, ms (GOAWAY PROTOCOL_ERROR). Default 10000. */
  settingsTimeoutMs?: number;
  /**
   * A TCP connection must complete its request head (the WebSocket upgrade, or any HTTP
   * request) this soon after it connects, ms, or it gets HTTP 408 and is closed. Until then it
   * counts toward `maxSockets` and `maxSocketsPerIp`, so slow connections cannot pile up. Default 10000.
   */
  upgradeTimeoutMs?: number;
  /**
   * Share of successful calls that get a request log line (`msg: "call"`: method, status,
   * duration, bytes in/out, client address, trace id), from 0 (none) to 1 (every call).
   * Failed calls (a non-OK gRPC status, an HTTP status >= 400, a reset) are always logged.
   * Default 0.01. The lines are at level info.
   */
  logSampleRate?: number;
  /** pino level. Default `"info"`. Ignored when `logger` is given. */
  logLevel?: string;
  /**
   * Log lines as JSON, or one human-readable line each ("pretty"); "auto" (the default) is
   * pretty when stdout is a terminal. Ignored when `logger` is given.
   */
  logFormat?: LogFormat;
  /** A pino logger to use instead of a new one on stdout. */
  logger?: Logger;
}

/** Options after defaults were applied and values validated. */
export type ResolvedOptions = Required<Omit<GatewayOptions, OptionalOptions>> & Pick<GatewayOptions, OptionalOptions>;

/** Options without a default. */
type OptionalOptions = "descriptors" | "upstreamCa" | "tlsCert" | "tlsKey" | "authenticate" | "logger" | "publicOrigin" | "adminListen";

/** How a CLI flag's value is read. */
export type OptionKind =
  /** Text, as given. */
  | "string"
  /** A non-negative integer, range-checked by `min`/`max`. */
  | "int"
  /** A non-negative decimal number such as 0.05, range-checked by `min`/`max`. */
  | "number"
  /** A switch: `--flag` / `--no-flag`; in the environment true|false|1|0|yes|no|on|off. */
  | "bool"
  /** Repeatable; comma-separated in the environment. */
  | "list"
  /** A path; the option holds the file's contents. */
  | "file"
  /** `HOST:PORT` (or `[IPv6]:PORT`), setting both `host` and `port`. */
  | "listen"
  /** A duration with a unit (`500ms`, `90s`, `30m`, `12h`, `1d`); the option holds ms, range-checked like an int. */
  | "duration";

/** One option: its default, checks and CLI face. */
export interface OptionSpec {
  /** The {@link GatewayOptions} field. */
  key: keyof GatewayOptions;
  /** CLI flag without `--`; the env var is SWTUNNEL_<FLAG_IN_UPPER_SNAKE>. Absent: library only. */
  flag?: string;
  kind: OptionKind;
  /** What goes after the flag in --help (`--listen HOST:PORT`); bool flags take none. */
  value?: string;
  /** The default (absent: none; the option is optional or required). */
  default?: unknown;
  /** How --help shows the default when `default` alone says too little. */
  defaultText?: string;
  /** The option has no default and must be given. */
  required?: boolean;
  /** Inclusive range of an int. */
  min?: number;
  max?: number;
  /** Allowed values of a string. */
  choices?: readonly string[];
  /** One line of help: what it is, what happens past it. */
  doc: string;
}

const U31 = 2 ** 31 - 1;

/** Every option with a default or a flag, in --help order. See the file comment to add one. */
export const OPTION_SPECS = [
  {
    key: "host",
    flag: "listen",
    kind: "listen",
    value: "HOST:PORT",
    default: "127.0.0.1",
    doc: "address to listen on ([::1]:8080 for IPv6; :8080 for every interface)",
  },
  { key: "port", kind: "int", default: 8080, min: 0, max: 65535, doc: "port to listen on (0 = any free port)" },
  {
    key: "upstream",
    flag: "upstream",
    kind: "string",
    value: "URL",
    required: true,
    doc: "backend: http://host:port (h2c) or https://host:port (TLS)",
  },
  {
    key: "upstreamProtocol",
    flag: "upstream-protocol",
    kind: "string",
    value: "PROTOCOL",
    default: "grpc",
    choices: ["grpc", "connect"],
    doc: "what the backend speaks",
  },
  {
    key: "upstreamCa",
    flag: "upstream-ca",
    kind: "file",
    value: "FILE",
    doc: "PEM file of CAs trusted for an https upstream (default: the system CAs)",
  },
  { key: "upstreamInsecure", flag: "upstream-insecure", kind: "bool", default: false, doc: "skip TLS certificate checks of the upstream" },
  {
    key: "upstreamPingIntervalMs",
    flag: "upstream-ping-interval-ms",
    kind: "int",
    value: "MS",
    default: 30_000,
    min: 0,
    max: U31,
    doc: "HTTP/2 PING interval to the upstream; two unanswered close the session (0 = off)",
  },
  {
    key: "descriptors",
    flag: "descriptors",
    kind: "file",
    value: "FILE",
    doc: "binary FileDescriptorSet (buf build -o), for Connect/gRPC-Web JSON to a gRPC upstream",
  },
  {
    key: "tlsCert",
    flag: "tls-cert",
    kind: "file",
    value: "FILE",
    doc: "PEM certificate chain: serve https:// and wss:// (with --tls-key; default: plain HTTP)",
  },
  { key: "tlsKey", flag: "tls-key", kind: "file", value: "FILE", doc: "PEM private key of --tls-cert" },
  { key: "path", flag: "path", kind: "string", value: "PATH", default: "/tunnel", doc: "path of the WebSocket upgrade" },
  {
    key: "allowOrigins",
    flag: "allow-origin",
    kind: "list",
    value: "ORIGIN",
    default: [],
    defaultText: "the gateway's own origin",
    doc: "Origin allowed to open a tunnel, compared exactly; '*' admits any origin",
  },
  {
    key: "publicOrigin",
    flag: "public-origin",
    kind: "string",
    value: "ORIGIN",
    defaultText: "http://<listen address>; none on 0.0.0.0 or ::",
    doc: "the gateway's own origin as browsers reach it (behind a proxy or CDN)",
  },
  {
    key: "trustProxy",
    flag: "trust-proxy",
    kind: "list",
    value: "CIDR",
    default: [],
    defaultText: "none",
    doc: "proxy address or CIDR whose client address header is believed",
  },
  {
    key: "clientAddressHeader",
    flag: "client-address-header",
    kind: "string",
    value: "HEADER",
    default: "x-forwarded-for",
    doc: "header trusted proxies name the client in: x-forwarded-for, forwarded, cf-connecting-ip, ...",
  },
  {
    key: "allowNoOrigin",
    flag: "allow-no-origin",
    kind: "bool",
    default: true,
    doc: "admit upgrades without an Origin header (non-browser clients); --no-allow-no-origin refuses them",
  },
  {
    key: "allowServices",
    flag: "allow-service",
    kind: "list",
    value: "SERVICE",
    default: [],
    defaultText: "every service",
    doc: "pkg.Service clients may call; others get RST_STREAM FORBIDDEN",
  },
  {
    key: "maxSockets",
    flag: "max-sockets",
    kind: "int",
    value: "N",
    default: 10_000,
    min: 1,
    max: U31,
    doc: "open tunnel sockets in total; more get HTTP 503",
  },
  {
    key: "maxSocketsPerIp",
    flag: "max-sockets-per-ip",
    kind: "int",
    value: "N",
    default: 100,
    min: 1,
    max: U31,
    doc: "open tunnel sockets per client IP; more get HTTP 429",
  },
  {
    key: "maxStreamsPerSocket",
    flag: "max-streams-per-socket",
    kind: "int",
    value: "N",
    default: DEFAULT_SETTINGS.maxConcurrentStreams,
    min: 1,
    max: U31,
    doc: "streams open at once on one socket; more get REFUSED_STREAM",
  },
  {
    key: "maxHeaders",
    flag: "max-headers",
    kind: "int",
    value: "N",
    default: 100,
    min: 1,
    max: 0xffff,
    doc: "most header entries in one request (RST_STREAM HEADER_BLOCK_TOO_LARGE)",
  },
  {
    key: "maxHeaderBlockBytes",
    flag: "max-header-block-bytes",
    kind: "int",
    value: "BYTES",
    default: 64 << 10,
    min: 64,
    max: MAX_MAX_FRAME_PAYLOAD,
    doc: "largest request header block (RST_STREAM HEADER_BLOCK_TOO_LARGE)",
  },
  {
    key: "maxFramePayload",
    flag: "max-frame-payload",
    kind: "int",
    value: "BYTES",
    default: DEFAULT_SETTINGS.maxFramePayload,
    min: MIN_MAX_FRAME_PAYLOAD,
    max: MAX_MAX_FRAME_PAYLOAD,
    doc: "largest frame payload accepted and announced",
  },
  {
    key: "maxMessageBytes",
    flag: "max-message-bytes",
    kind: "int",
    value: "BYTES",
    default: 4 << 20,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: "largest message either way, 0 = no limit (RST_STREAM MESSAGE_TOO_LARGE)",
  },
  {
    key: "idleTimeoutMs",
    flag: "idle-timeout-ms",
    kind: "int",
    value: "MS",
    default: 300_000,
    min: 0,
    max: U31,
    doc: "close a socket with no open stream after this long (0 = never)",
  },
  {
    key: "streamWindow",
    flag: "stream-window",
    kind: "int",
    value: "BYTES",
    default: DEFAULT_SETTINGS.initialStreamWindow,
    min: 1,
    max: MAX_WINDOW,
    doc: "receive window per stream announced to clients",
  },
  {
    key: "connectionWindow",
    flag: "connection-window",
    kind: "int",
    value: "BYTES",
    default: DEFAULT_SETTINGS.initialConnectionWindow,
    min: 1,
    max: MAX_WINDOW,
    doc: "receive window per socket announced to clients",
  },
  {
    key: "pingIntervalMs",
    flag: "ping-interval-ms",
    kind: "int",
    value: "MS",
    default: DEFAULT_SETTINGS.pingIntervalMs,
    min: 0,
    max: 2 ** 32 - 1,
    doc: "tunnel PING interval; two unanswered close the socket (0 = off)",
  },
  {
    key: "maxSocketAgeMs",
    flag: "max-socket-age",
    kind: "duration",
    value: "DURATION",
    default: 0,
    defaultText: "no limit",
    min: 0,
    max: U31,
    doc: "GOAWAY NO_ERROR to sockets older than this (e.g. 30m; jittered +-10%), so load spreads again",
  },
  {
    key: "drainTimeoutMs",
    flag: "drain-timeout-ms",
    kind: "int",
    value: "MS",
    default: 30_000,
    min: 0,
    max: U31,
    doc: "how long accepted streams may run after a drain starts",
  },
  {
    key: "maxStreamBufferedBytes",
    flag: "max-stream-buffered-bytes",
    kind: "int",
    value: "BYTES",
    default: 1 << 20,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: "response bytes one stream may have queued unwritten; at the cap it stops reading upstream",
  },
  {
    key: "maxSocketBufferedBytes",
    flag: "max-socket-buffered-bytes",
    kind: "int",
    value: "BYTES",
    default: 4 << 20,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: "bytes one socket may have queued unwritten; at the cap its streams wait",
  },
  {
    key: "maxQueuedControlFrames",
    flag: "max-queued-control-frames",
    kind: "int",
    value: "N",
    default: 1000,
    min: 1,
    max: U31,
    doc: "PONG/RST_STREAM/WINDOW_UPDATE frames queued unwritten per socket; past it GOAWAY ENHANCE_YOUR_CALM",
  },
  {
    key: "maxStreamErrorsPerSocket",
    flag: "max-stream-errors-per-socket",
    kind: "int",
    value: "N",
    default: 1000,
    min: 1,
    max: U31,
    doc: "stream errors a socket's client may cause; past it GOAWAY ENHANCE_YOUR_CALM",
  },
  {
    key: "streamIdleTimeoutMs",
    flag: "stream-idle-timeout-ms",
    kind: "int",
    value: "MS",
    default: 300_000,
    min: 0,
    max: U31,
    doc: "end a stream with no frame either way for this long (DEADLINE_EXCEEDED), 0 = never",
  },
  {
    key: "maxCallDurationMs",
    flag: "max-call-duration-ms",
    kind: "int",
    value: "MS",
    default: 0,
    min: 0,
    max: U31,
    doc: "longest call, whatever deadline it asks for (DEADLINE_EXCEEDED), 0 = no limit",
  },
  {
    key: "settingsTimeoutMs",
    flag: "settings-timeout-ms",
    kind: "int",
    value: "MS",
    default: 10_000,
    min: 1,
    max: U31,
    doc: "a socket must send SETTINGS this soon after the upgrade (GOAWAY PROTOCOL_ERROR)",
  },
  {
    key: "upgradeTimeoutMs",
    flag: "upgrade-timeout-ms",
    kind: "int",
    value: "MS",
    default: 10_000,
    min: 1,
    max: U31,
    doc: "a connection must send its request head this soon (HTTP 408); until then it holds a socket slot",
  },
  {
    key: "adminListen",
    flag: "admin-listen",
    kind: "string",
    value: "HOST:PORT",
    defaultText: "none: no /metrics",
    doc: "admin listener serving /metrics, /healthz and /readyz",
  },
  {
    key: "logSampleRate",
    flag: "log-sample-rate",
    kind: "number",
    value: "RATE",
    default: 0.01,
    min: 0,
    max: 1,
    doc: "share of successful calls logged (0..1); failed calls are always logged",
  },
  {
    key: "logLevel",
    flag: "log-level",
    kind: "string",
    value: "LEVEL",
    default: "info",
    choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    doc: "pino log level",
  },
  {
    key: "logFormat",
    flag: "log-format",
    kind: "string",
    value: "FORMAT",
    default: "auto",
    choices: ["auto", "json", "pretty"],
    doc: "JSON lines, or one readable line each; auto = pretty on a terminal",
  },
] as const satisfies readonly OptionSpec[];

type Spec = (typeof OPTION_SPECS)[number];
type DefaultedKey = Extract<Spec, { default: unknown }>["key"];

/** Default value of every limit and setting (from {@link OPTION_SPECS}). */
export const DEFAULT_OPTIONS: Readonly<{ [K in DefaultedKey]-?: NonNullable<GatewayOptions[K]> }> = Object.freeze(
  Object.fromEntries(OPTION_SPECS.filter((s) => "default" in s).map((s) => [s.key, (s as OptionSpec).default])),
) as never;

/** Thrown for a bad option; the message names the option and what is allowed. */
export class OptionsError extends Error {
  override readonly name = "OptionsError";
}

const SERVICE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

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
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new OptionsError(
      `tlsCert and tlsKey go together: give both (PEM certificate chain and its key) or neither, got only ${o.tlsCert === undefined ? "tlsKey" : "tlsCert"}`,
    );
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
  const values = o as unknown as Record<string, unknown>;
  for (const spec of OPTION_SPECS as readonly OptionSpec[]) {
    const value = values[spec.key];
    if (spec.kind === "int" || spec.kind === "duration") int(spec.key, value as number, spec.min!, spec.max!);
    if (spec.kind === "number" && !(typeof value === "number" && value >= spec.min! && value <= spec.max!)) {
      throw new OptionsError(`${spec.key} must be a number from ${spec.min} to ${spec.max}, got ${JSON.stringify(value)}`);
    }
    if (spec.choices && !spec.choices.includes(value as string)) {
      throw new OptionsError(`${spec.key} must be one of ${spec.choices.join(", ")}, got ${JSON.stringify(value)}`);
    }
  }
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
