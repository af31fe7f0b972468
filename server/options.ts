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
  | "listen";

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
  { key: "path", flag: "path", kind: "string", value: "PATH", default: "/tunnel", doc: "path of the WebSocket upgrade" },
  {
    key: "allowOrigins",
    flag: "allow-origin",
    kind: "list",
    value: "ORIGIN",
    default: [],
    defaultText: "the gateway's own origin",
    doc: "Origin allowed to open a tunnel",
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
    doc: "open tunnel sockets per client IP; more get HTTP 503",
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
  const values = o as unknown as Record<string, unknown>;
  for (const spec of OPTION_SPECS as readonly OptionSpec[]) {
    const value = values[spec.key];
    if (spec.kind === "int") int(spec.key, value as number, spec.min!, spec.max!);
    if (spec.kind === "number" && !(typeof value === "number" && value >= spec.min! && value <= spec.max!)) {
      throw new OptionsError(`${spec.key} must be a number from ${spec.min} to ${spec.max}, got ${JSON.stringify(value)}`);
    }
    if (spec.choices && !spec.choices.includes(value as string)) {
      throw new OptionsError(`${spec.key} must be one of ${spec.choices.join(", ")}, got ${JSON.stringify(value)}`);
    }
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
