/**
 * The demo's command line, from one table: parsing, `--help` and "did you mean" for a
 * mistyped flag. Pure (no I/O), so it is tested fast.
 */
import { parseArgs } from "node:util";

/** The demo's options after parsing. */
export interface DemoOptions {
  help: boolean;
  headless: boolean;
  calls: number;
  /** The demo page's port; undefined = 8080, or a free port when 8080 is taken (0 when headless). */
  port: number | undefined;
  /** The gateway's port; undefined = 8081, or a free port when 8081 is taken (0 when headless). */
  gatewayPort: number | undefined;
  host: string;
}

interface Flag {
  name: string;
  /** What goes in the value, shown in --help; absent for a boolean flag. */
  placeholder?: string;
  help: string;
}

/** Every flag, in --help order. */
export const DEMO_FLAGS: readonly Flag[] = [
  { name: "port", placeholder: "PORT", help: "demo page port (default 8080; a free port when 8080 is taken; 0 = any free port)" },
  {
    name: "gateway-port",
    placeholder: "PORT",
    help: "gateway port (default 8081; a free port when 8081 is taken; 0 = any free port)",
  },
  { name: "host", placeholder: "HOST", help: "interface to listen on (default 127.0.0.1)" },
  { name: "headless", help: "drive the page in headless Chromium, print the results and exit (free ports)" },
  { name: "calls", placeholder: "N", help: "sequential SayHello calls per client in --headless (default 8192)" },
  { name: "help", help: "print this help and exit" },
];

/** A bad command line; the message says what to type instead. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** `npm run demo -- --help`. */
export function demoHelp(): string {
  const rows = DEMO_FLAGS.map((f) => [`--${f.name}${f.placeholder ? ` ${f.placeholder}` : ""}`, f.help] as const);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    "usage: npm run demo -- [options]",
    "",
    "Starts the grpc-js backend, the gateway and the demo page on loopback. Ctrl-C stops everything.",
    "",
    "options:",
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    "",
    "examples:",
    "  npm run demo",
    "  npm run demo -- --port 9000 --gateway-port 9001",
    "  npm run demo -- --headless --calls 1000",
  ].join("\n");
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known flag closest to `name` (without dashes), if it is close enough to be a typo. */
export function suggestFlag(name: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const f of DEMO_FLAGS) {
    const d = f.name.startsWith(name) && name.length >= 2 ? 0 : distance(name, f.name);
    if (!best || d < best.d) best = { name: f.name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

function port(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`--${flag} must be a port from 0 to 65535, got ${JSON.stringify(value)}`);
  return n;
}

/** Parses the demo's arguments; throws UsageError with a suggestion for a bad one. */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  // Tolerate the "--" that separates npm's own arguments when it is passed through.
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        DEMO_FLAGS.map((f) => [f.name, { type: f.placeholder ? "string" : "boolean", ...(f.name === "help" ? { short: "h" } : {}) }]),
      ) as Record<string, { type: "string" | "boolean"; short?: string }>,
    }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '-{1,2}([^']+)'/.exec(message)?.[1];
    if (unknown !== undefined) {
      const guess = suggestFlag(unknown.split("=")[0]!);
      throw new UsageError(
        `unknown option --${unknown}${guess ? `; did you mean --${guess}?` : ""} (npm run demo -- --help lists the options)`,
      );
    }
    const missing = /Option '--([^ ']+)[^']*' argument missing/.exec(message)?.[1];
    if (missing !== undefined) {
      const flag = DEMO_FLAGS.find((f) => f.name === missing);
      throw new UsageError(`--${missing} needs a value: --${missing} ${flag?.placeholder ?? "VALUE"}`);
    }
    throw new UsageError(`${message} (npm run demo -- --help lists the options)`);
  }
  const callsText = (values.calls as string | undefined) ?? "8192";
  const calls = Number(callsText);
  if (!/^\d+$/.test(callsText) || calls < 1) throw new UsageError(`--calls must be a positive integer, got ${JSON.stringify(callsText)}`);
  return {
    help: values.help === true,
    headless: values.headless === true,
    calls,
    port: port("port", values.port as string | undefined),
    gatewayPort: port("gateway-port", values["gateway-port"] as string | undefined),
    host: (values.host as string | undefined) ?? "127.0.0.1",
  };
}
