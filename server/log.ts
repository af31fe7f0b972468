/** Structured logs (pino): one line per socket open/close and per stream error, never per frame. */
import { pino, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";

export type { Logger };

/** JSON lines, one human-readable line per entry, or pretty when the output is a terminal. */
export type LogFormat = "auto" | "json" | "pretty";

/** Where log lines go: a stream-like sink; `isTTY` picks the format for "auto". */
export interface LogOutput {
  write(line: string): unknown;
  isTTY?: boolean;
}

/** A logger at `level` (a pino level) on `out` (default stdout) in `format`. */
export function createLogger(level = "info", format: LogFormat = "json", out: LogOutput = process.stdout): Logger {
  const pretty = format === "pretty" || (format === "auto" && out.isTTY === true);
  if (!pretty) return pino({ name: "swtunnel", level }, out === process.stdout ? undefined : out);
  const render = prettyFactory({ colorize: out.isTTY === true, singleLine: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" });
  return pino({ name: "swtunnel", level }, { write: (line: string) => out.write(render(line)) });
}
