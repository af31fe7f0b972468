/**
 * The command line of `swtunnel`: flags and SWTUNNEL_* environment variables read into
 * gateway options, and the help text, both from the option table in options.ts. Bad input
 * is a UsageError (exit code 2) that names the flag and, for a typo, what was meant.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { didYouMean } from "./did-you-mean.js";
import { DEFAULT_OPTIONS, OPTION_SPECS, parseDuration, type GatewayOptions, type OptionSpec } from "./options.js";

/** The commands; `swtunnel gateway` is the only one. */
export const COMMANDS = ["gateway"] as const;

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
    "Endpoints: /tunnel (WebSocket, subprotocol swtunnel.v1), /healthz, /readyz; with --admin-listen,",
    "a second listener serves /metrics, /healthz and /readyz.",
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
    throw new UsageError(parseError(err as Error & { code?: string }, spec));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: "help" };
  if (values.version) return { command: "version" };
  if (positionals.length === 0) throw new UsageError(`missing command; the command is: ${COMMANDS.join(", ")}`);
  const command = positionals[0]!;
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(
      `unknown command ${JSON.stringify(command)}${didYouMean(command, COMMANDS) || `; the command is: ${COMMANDS.join(", ")}`}`,
    );
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])} after ${command}`);
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

/** A parseArgs error in our words: unknown flags get a suggestion, the rest say which flag. */
function parseError(err: Error & { code?: string }, spec: Record<string, { type: "string" | "boolean" }>): string {
  const unknown = /^Unknown option '(-{1,2})([^'=]+)/.exec(err.message);
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown) {
    const names = Object.entries(spec).flatMap(([n, s]) =>
      s.type === "boolean" && n !== "help" && n !== "version" ? [n, `no-${n}`] : [n],
    );
    return `unknown flag ${unknown[1]}${unknown[2]}${didYouMean(unknown[2]!, names, (n) => `--${n}`)}`;
  }
  const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(err.message);
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && missing) {
    const f = FLAGS.find((x) => `--${x.flag}` === missing[1]);
    return `${missing[1]} needs a value${f?.value ? ` (${missing[1]} ${f.value})` : ""}`;
  }
  return err.message;
}

/** One flag's value as the options it sets. */
function readValue(f: OptionSpec & { flag: string }, where: string, raw: unknown): Record<string, unknown> {
  if (f.choices && typeof raw === "string" && !f.choices.includes(raw)) {
    throw new UsageError(`${where} must be one of ${f.choices.join(", ")}, got ${JSON.stringify(raw)}${didYouMean(raw, f.choices)}`);
  }
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
    case "duration":
      try {
        return { [f.key]: parseDuration(where, String(raw)) };
      } catch (err) {
        throw new UsageError((err as Error).message);
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
