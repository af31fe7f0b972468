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
import { DEFAULT_OPTIONS, OPTION_SPECS, OptionsError, type GatewayOptions, type OptionSpec } from "./options.js";

/** The options that have a CLI flag, in --help order. */
const FLAGS = (OPTION_SPECS as readonly OptionSpec[]).filter((s): s is OptionSpec & { flag: string } => s.flag !== undefined);

/** Environment variable for a flag: SWTUNNEL_<FLAG_IN_UPPER_SNAKE>. */
export function envName(flag: string): string {
  return `SWTUNNEL_${flag.toUpperCase().replace(/-/g, "_")}`;
}

/** `--flag VALUE` as --help shows it. */
function flagUsage(f: OptionSpec & { flag: string }): string {
  return f.kind === "bool" ? `--${f.flag}` : `--${f.flag} ${f.value ?? "VALUE"}`;
}

/** The default as --help shows it, or undefined for none. */
function defaultUsage(f: OptionSpec): string | undefined {
  if (f.defaultText !== undefined) return f.defaultText;
  if (f.kind === "listen") return `${DEFAULT_OPTIONS.host}:${DEFAULT_OPTIONS.port}`;
  if (f.default === undefined) return undefined;
  return Array.isArray(f.default) ? f.default.join(",") : String(f.default);
}

/** The help text, rendered from the option table in server/options.ts. */
export function usage(): string {
  const width = 36;
  const pad = (s: string) => (s.length < width - 1 ? s.padEnd(width) : `${s}\n${"".padEnd(width)}`);
  const options = FLAGS.flatMap((f) => {
    const shown = defaultUsage(f);
    return [
      `${pad(`  ${flagUsage(f)}`)}${f.doc}${f.choices ? ` (${f.choices.join(", ")})` : ""}${f.kind === "list" ? "; repeatable" : ""}`,
      `${"".padEnd(width)}${f.required ? "required; " : shown === undefined ? "" : `default: ${shown}; `}env ${envName(f.flag)}`,
    ];
  });
  const lines = [
    "Usage: swtunnel gateway --upstream URL [options]",
    "",
    "Runs the swtunnel gateway: WebSocket tunnel on --listen, HTTP/2 calls to --upstream.",
    "Every flag can also be set by its environment variable (repeatable flags take a",
    "comma-separated list there); flags win over the environment.",
    "",
    "Options:",
    ...options,
    `${pad("  -h, --help")}print this help`,
    `${pad("  --version")}print the version`,
    "",
    "Endpoints: /tunnel (WebSocket, subprotocol swtunnel.v1), /healthz, /readyz, /metrics.",
    "SIGTERM/SIGINT drain the gateway, then exit 0. Exit codes: 1 cannot start, 2 usage error.",
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
    spec[f.flag] = { type: f.kind === "bool" ? "boolean" : "string", multiple: f.kind === "list" };
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
    let raw: unknown = values[f.flag];
    const fromEnv = env[envName(f.flag)];
    if (raw === undefined && fromEnv !== undefined && fromEnv !== "") {
      raw = f.kind === "list" ? [fromEnv] : f.kind === "bool" ? parseBool(f.flag, fromEnv) : fromEnv;
    }
    if (raw === undefined) continue;
    const where = values[f.flag] !== undefined ? `--${f.flag}` : envName(f.flag);
    Object.assign(options, readValue(f, where, raw));
  }
  if (options.upstream === undefined) throw new UsageError(`--upstream is required (or ${envName("upstream")})`);
  return { command: "gateway", options: options as unknown as GatewayOptions };
}

/** One flag's value as the options it sets. */
function readValue(f: OptionSpec & { flag: string }, where: string, raw: unknown): Record<string, unknown> {
  switch (f.kind) {
    case "int": {
      const s = String(raw);
      if (!/^\d+$/.test(s)) throw new UsageError(`${where} must be a non-negative integer, got ${JSON.stringify(s)}`);
      return { [f.key]: Number(s) };
    }
    case "number": {
      const s = String(raw);
      if (!/^(\d+(\.\d*)?|\.\d+)$/.test(s)) throw new UsageError(`${where} must be a number such as 0.05, got ${JSON.stringify(s)}`);
      return { [f.key]: Number(s) };
    }
    case "list":
      return {
        [f.key]: (raw as string[])
          .flatMap((s) => s.split(","))
          .map((s) => s.trim())
          .filter(Boolean),
      };
    case "file":
      try {
        return { [f.key]: readFileSync(String(raw)) };
      } catch (err) {
        throw new UsageError(`cannot read ${where} file: ${(err as Error).message}`);
      }
    case "listen": {
      const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(String(raw));
      if (!m) throw new UsageError(`${where} must be HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080), got ${JSON.stringify(raw)}`);
      return { host: m[1] ?? (m[2] || "0.0.0.0"), port: Number(m[3]) };
    }
    default:
      return { [f.key]: raw };
  }
}

function parseBool(flag: string, s: string): boolean {
  if (/^(1|true|yes|on)$/i.test(s)) return true;
  if (/^(0|false|no|off)$/i.test(s)) return false;
  throw new UsageError(`${envName(flag)} must be true or false, got ${JSON.stringify(s)}`);
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
    io.stdout(`swtunnel gateway listening on ${gateway.url} (tunnel ${gateway.tunnelUrl}, upstream ${gateway.options.upstream})`);
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
