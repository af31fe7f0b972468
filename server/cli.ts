#!/usr/bin/env node
/**
 * `swtunnel gateway ...`: runs the gateway from flags or SWTUNNEL_* environment variables.
 * Exit codes: 0 after a clean drain (SIGTERM/SIGINT) or --help/--version, 1 on a start
 * failure, 2 on a bad flag or value.
 */
import { readFileSync, realpathSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { createGateway, type Gateway } from "./gateway.js";
import { OptionsError, parseDuration, type GatewayOptions } from "./options.js";

type Kind = "string" | "int" | "list" | "bool" | "duration";
interface Flag {
  name: string;
  option: keyof GatewayOptions | "listen";
  kind: Kind;
  help: string;
}

const FLAGS: Flag[] = [
  { name: "listen", option: "listen", kind: "string", help: "host:port to listen on (default 127.0.0.1:8080)" },
  { name: "upstream", option: "upstream", kind: "string", help: "backend URL, http://host:port (h2c) or https://host:port (required)" },
  { name: "upstream-protocol", option: "upstreamProtocol", kind: "string", help: "grpc | connect (default grpc)" },
  { name: "upstream-ca", option: "upstreamCa", kind: "string", help: "PEM file of CAs trusted for an https upstream" },
  { name: "upstream-insecure", option: "upstreamInsecure", kind: "bool", help: "skip TLS verification of the upstream" },
  {
    name: "upstream-ping-interval-ms",
    option: "upstreamPingIntervalMs",
    kind: "int",
    help: "HTTP/2 PING interval to the upstream (default 30000)",
  },
  {
    name: "descriptors",
    option: "descriptors",
    kind: "string",
    help: "binary FileDescriptorSet file, for Connect/gRPC-Web JSON to a gRPC upstream",
  },
  { name: "path", option: "path", kind: "string", help: "tunnel path (default /tunnel)" },
  {
    name: "allow-origin",
    option: "allowOrigins",
    kind: "list",
    help: "allowed Origin, exact, repeatable; '*' = any (default: the gateway's own origin)",
  },
  {
    name: "public-origin",
    option: "publicOrigin",
    kind: "string",
    help: "the gateway's origin as browsers reach it (default: http://<listen address>)",
  },
  { name: "trust-proxy", option: "trustProxy", kind: "list", help: "proxy addresses/CIDRs whose client address header is believed" },
  {
    name: "client-address-header",
    option: "clientAddressHeader",
    kind: "string",
    help: "x-forwarded-for | forwarded | cf-connecting-ip | ... (default x-forwarded-for)",
  },
  { name: "admin-listen", option: "adminListen", kind: "string", help: "host:port of the admin listener: /metrics, /healthz, /readyz" },
  {
    name: "allow-no-origin",
    option: "allowNoOrigin",
    kind: "bool",
    help: "admit upgrades without Origin (default true; --no-allow-no-origin to refuse)",
  },
  { name: "allow-service", option: "allowServices", kind: "list", help: "allowed pkg.Service, repeatable (default: all)" },
  { name: "max-sockets", option: "maxSockets", kind: "int", help: "open sockets in total (default 10000)" },
  { name: "max-sockets-per-ip", option: "maxSocketsPerIp", kind: "int", help: "open sockets per client IP (default 100)" },
  { name: "max-streams-per-socket", option: "maxStreamsPerSocket", kind: "int", help: "concurrent streams per socket (default 100)" },
  { name: "max-headers", option: "maxHeaders", kind: "int", help: "most headers in one request (default 100)" },
  { name: "max-header-block-bytes", option: "maxHeaderBlockBytes", kind: "int", help: "largest request header block (default 65536)" },
  { name: "max-frame-payload", option: "maxFramePayload", kind: "int", help: "largest frame payload (default 65536)" },
  { name: "max-message-bytes", option: "maxMessageBytes", kind: "int", help: "largest message either way, 0 = no limit (default 4194304)" },
  {
    name: "idle-timeout-ms",
    option: "idleTimeoutMs",
    kind: "int",
    help: "close sockets without streams after this, 0 = never (default 300000)",
  },
  { name: "stream-window", option: "streamWindow", kind: "int", help: "receive window per stream (default 1048576)" },
  { name: "connection-window", option: "connectionWindow", kind: "int", help: "receive window per socket (default 8388608)" },
  { name: "ping-interval-ms", option: "pingIntervalMs", kind: "int", help: "tunnel PING interval, 0 = off (default 25000)" },
  {
    name: "max-socket-age",
    option: "maxSocketAgeMs",
    kind: "duration",
    help: "GOAWAY sockets older than this (e.g. 30m; +-10% jitter; default: no limit)",
  },
  { name: "drain-timeout-ms", option: "drainTimeoutMs", kind: "int", help: "how long a drain lets streams finish (default 30000)" },
  { name: "log-level", option: "logLevel", kind: "string", help: "fatal|error|warn|info|debug|trace|silent (default info)" },
];

/** Environment variable for a flag: SWTUNNEL_<FLAG_IN_UPPER_SNAKE>. */
export function envName(flag: string): string {
  return `SWTUNNEL_${flag.toUpperCase().replace(/-/g, "_")}`;
}

export function usage(): string {
  const lines = [
    "Usage: swtunnel gateway --upstream URL [options]",
    "",
    "Runs the swtunnel gateway: WebSocket tunnel on --listen, HTTP/2 calls to --upstream.",
    "Every flag can also be set as an environment variable SWTUNNEL_<FLAG> (e.g. SWTUNNEL_UPSTREAM);",
    "repeatable flags take a comma-separated list there. Flags win over the environment.",
    "",
    "Options:",
    ...FLAGS.map((f) => `  --${f.name}${f.kind === "bool" ? "" : " VALUE"}`.padEnd(38) + f.help),
    `${"  -h, --help".padEnd(38)}print this help`,
    `${"  --version".padEnd(38)}print the version`,
    "",
    "Endpoints: /tunnel (WebSocket, subprotocol swtunnel.v1), /healthz, /readyz; with --admin-listen,",
    "a second listener serves /metrics, /healthz and /readyz.",
    "SIGTERM/SIGINT drain the gateway, then exit 0.",
  ];
  return lines.join("\n");
}

/** A bad command line; the CLI prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Parses argv (without node and script) and the environment into gateway options. */
export function parseCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): { command: "help" | "version" | "gateway"; options?: GatewayOptions } {
  const spec: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
  };
  for (const f of FLAGS) {
    spec[f.name] = { type: f.kind === "bool" ? "boolean" : "string", multiple: f.kind === "list" };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: spec, allowPositionals: true, allowNegative: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: "help" };
  if (values.version) return { command: "version" };
  if (positionals.length !== 1 || positionals[0] !== "gateway") {
    throw new UsageError(
      positionals.length === 0
        ? "missing command; the command is: gateway"
        : `unknown command ${JSON.stringify(positionals.join(" "))}; the command is: gateway`,
    );
  }
  const options: Record<string, unknown> = {};
  for (const f of FLAGS) {
    let raw: unknown = values[f.name];
    const fromEnv = env[envName(f.name)];
    if (raw === undefined && fromEnv !== undefined && fromEnv !== "") {
      raw =
        f.kind === "list"
          ? fromEnv
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean)
          : f.kind === "bool"
            ? parseBool(f, fromEnv)
            : fromEnv;
    }
    if (raw === undefined) continue;
    const where = values[f.name] !== undefined ? `--${f.name}` : envName(f.name);
    switch (f.kind) {
      case "int": {
        const s = String(raw);
        if (!/^\d+$/.test(s)) throw new UsageError(`${where} must be a non-negative integer, got ${JSON.stringify(s)}`);
        options[f.option] = Number(s);
        break;
      }
      case "duration":
        try {
          options[f.option] = parseDuration(where, String(raw));
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        break;
      case "list":
        options[f.option] = (raw as string[])
          .flatMap((s) => s.split(","))
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      default:
        options[f.option] = raw;
    }
  }
  if (options.listen !== undefined) {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(String(options.listen));
    if (!m) throw new UsageError(`--listen must be host:port (e.g. 127.0.0.1:8080 or [::1]:8080), got ${JSON.stringify(options.listen)}`);
    options.host = m[1] ?? (m[2] || "0.0.0.0");
    options.port = Number(m[3]);
    delete options.listen;
  }
  if (options.upstream === undefined) throw new UsageError(`--upstream is required (or ${envName("upstream")})`);
  for (const key of ["descriptors", "upstreamCa"] as const) {
    if (options[key] === undefined) continue;
    try {
      const bytes = readFileSync(String(options[key]));
      options[key] = key === "descriptors" ? new Uint8Array(bytes) : bytes;
    } catch (err) {
      throw new UsageError(`cannot read ${key === "descriptors" ? "--descriptors" : "--upstream-ca"} file: ${(err as Error).message}`);
    }
  }
  return { command: "gateway", options: options as unknown as GatewayOptions };
}

function parseBool(f: Flag, s: string): boolean {
  if (/^(1|true|yes|on)$/i.test(s)) return true;
  if (/^(0|false|no|off)$/i.test(s)) return false;
  throw new UsageError(`${envName(f.name)} must be true or false, got ${JSON.stringify(s)}`);
}

/** The package version, from the nearest swtunnel package.json above this file (source or dist). */
function version(): string {
  for (let up = "../"; up.length <= 4 * 3; up += "../") {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), "utf8")) as { name?: string; version: string };
      if (pkg.name === "swtunnel") return pkg.version;
    } catch {
      // not here; look one level up
    }
  }
  return "unknown";
}

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/**
 * Runs the CLI. Resolves with the exit code for --help/--version/bad input, or with the
 * running gateway (the caller then waits for a signal). Never calls process.exit.
 */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = { stdout: console.log, stderr: console.error },
): Promise<number | Gateway> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`swtunnel: ${err.message}\nsee swtunnel --help`);
    return 2;
  }
  if (parsed.command === "help") {
    io.stdout(usage());
    return 0;
  }
  if (parsed.command === "version") {
    io.stdout(version());
    return 0;
  }
  try {
    const gateway = await createGateway(parsed.options!);
    const admin = gateway.adminUrl ? `, admin ${gateway.adminUrl}` : "";
    io.stdout(`swtunnel gateway listening on ${gateway.url} (tunnel ${gateway.tunnelUrl}${admin}, upstream ${gateway.options.upstream})`);
    return gateway;
  } catch (err) {
    if (err instanceof OptionsError) {
      io.stderr(`swtunnel: ${err.message}\nsee swtunnel --help`);
      return 2;
    }
    io.stderr(`swtunnel: cannot start: ${(err as Error).message}`);
    return 1;
  }
}

async function run(): Promise<void> {
  const result = await main(process.argv.slice(2));
  if (typeof result === "number") {
    process.exitCode = result;
    return;
  }
  const gateway = result;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`swtunnel: ${signal}: draining for up to ${gateway.options.drainTimeoutMs} ms`);
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`swtunnel: error while closing: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

// Run only as the entry point, not when imported (tests import main()).
// (argv[1] may be the npm bin symlink, hence realpath.)
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) void run();
