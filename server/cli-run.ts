/**
 * Running `swtunnel`: --help, --version, or a gateway that logs one startup line (pretty on
 * a terminal, JSON lines otherwise, or as --log-format says) and drains on SIGTERM/SIGINT.
 * Exit codes: 0 after a clean drain or --help/--version, 1 when it cannot start, 2 on a
 * usage error (a bad flag, value or option).
 */
import { UsageError, parseCli, usage } from "./cli-args.js";
import { createGateway, type Gateway } from "./gateway.js";
import { createLogger, type LogFormat } from "./log.js";
import { DEFAULT_OPTIONS, OptionsError } from "./options.js";
import { ownPackageJson } from "./package-json.js";

/** Exit code of a usage error. */
export const EXIT_USAGE = 2;
/** Exit code when the gateway cannot start. */
export const EXIT_CANNOT_START = 1;

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Whether stdout is a terminal (picks the log format when it is "auto"). */
  isTTY?: boolean;
}

const processIo: CliIo = { stdout: console.log, stderr: console.error, isTTY: process.stdout.isTTY === true };

function usageError(io: CliIo, message: string): number {
  io.stderr(`swtunnel: ${message}\nsee swtunnel --help`);
  return EXIT_USAGE;
}

/**
 * Runs the CLI. Resolves with the exit code for --help/--version/bad input, or with the
 * running gateway (the caller then waits for a signal). Never calls process.exit.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = processIo): Promise<number | Gateway> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageError(io, err.message);
  }
  if (parsed.command === "help") {
    io.stdout(usage());
    return 0;
  }
  if (parsed.command === "version") {
    io.stdout(ownPackageJson().version);
    return 0;
  }
  const options = parsed.options!;
  // The CLI's logger writes through `io`, so tests (and embedders of main) see its lines.
  const logger = createLogger(options.logLevel ?? DEFAULT_OPTIONS.logLevel, (options.logFormat ?? DEFAULT_OPTIONS.logFormat) as LogFormat, {
    write: (line: string) => io.stdout(line.replace(/\n$/, "")),
    isTTY: io.isTTY === true,
  });
  try {
    return await createGateway({ ...options, logger });
  } catch (err) {
    if (err instanceof OptionsError) return usageError(io, err.message);
    io.stderr(`swtunnel: cannot start: ${(err as Error).message}`);
    return EXIT_CANNOT_START;
  }
}

/** The bin: runs main, then keeps the gateway until SIGTERM/SIGINT and drains it. */
export async function run(): Promise<void> {
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
