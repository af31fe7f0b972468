/** Structured logs (pino): one line per socket open/close and per stream error, never per frame. */
import { pino, type Logger } from "pino";

export type { Logger };

/** A JSON logger on stdout at `level`. */
export function createLogger(level = "info"): Logger {
  return pino({ name: "swtunnel", level });
}
