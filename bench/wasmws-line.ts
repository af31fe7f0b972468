/**
 * The pure half of running wasmws's demo beside swtunnel: parsing the line its page logs
 * when the 8192 calls are done, and finding the port its build baked in. Pure.
 */

/** What the demo's SUCCESS line says. */
export interface WasmwsResult {
  calls: number;
  usPerCall: number;
}

const goUnitsUs: Record<string, number> = { ns: 1e-3, us: 1, µs: 1, μs: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/**
 * Microseconds in a Go `time.Duration` string as `%s` prints it ("770.123µs", "1.318092ms",
 * "1m2.5s"); throws on anything else.
 */
export function parseGoDuration(text: string): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h)/g) : null;
  if (!parts) throw new Error(`not a Go duration: ${JSON.stringify(text)}`);
  let us = 0;
  for (const part of parts) {
    const [, value, unit] = /^(\d+(?:\.\d+)?)(.+)$/.exec(part) as RegExpExecArray;
    us += Number(value) * goUnitsUs[unit];
  }
  return us;
}

/**
 * Parses `SUCCESS running 8192 transactions! (average 770.123µs per operation)`; returns
 * undefined for any other console line, throws if the line is a SUCCESS line with a
 * duration that does not parse.
 */
export function parseWasmwsLine(line: string): WasmwsResult | undefined {
  const match = /SUCCESS running (\d+) transactions! \(average (\S+) per operation\)/.exec(line);
  if (!match) return undefined;
  return { calls: Number(match[1]), usPerCall: parseGoDuration(match[2]) };
}

/**
 * A console line telling that the demo failed: its client's `log.Fatalf` lines (dial or a
 * call failed), a Go panic or runtime fatal error, or wasm_exec.js's non-zero exit code.
 */
export function isWasmwsFailure(line: string): boolean {
  return /Could not gRPC dial|Test transaction \d+ failed|^panic:|^fatal error:|exit code: [1-9]/m.test(line);
}

/**
 * The loopback port baked into a wasmws demo build: build.sh rewrites the client's URL to
 * `ws://127.0.0.1:PORT/grpc-proxy`, which sits verbatim in client.wasm's data. `bytes` is
 * client.wasm read as latin1 text (or the client's main.go). Undefined when absent.
 */
export function portFromBuild(text: string): number | undefined {
  const match = /ws:\/\/127\.0\.0\.1:(\d{1,5})\/grpc-proxy/.exec(text);
  if (!match) return undefined;
  const port = Number(match[1]);
  return port > 0 && port < 65536 ? port : undefined;
}
