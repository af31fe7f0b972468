/**
 * In-process mode against the standalone gateway, from Node (no browser): the tunnel's Node
 * client (Connect's gRPC protocol over createTunnelClient) making DemoService.SayHello
 * calls to
 *
 * - standalone: the gateway (child process) -> HTTP/2 h2c -> the connect-node backend
 *   (another child process);
 * - in-process: one child process whose http.Server has the tunnel endpoint attached and
 *   calls the same connect-node handlers in process.
 *
 * Server CPU per call is the sum over the server processes (gateway + backend, or the one
 * app), from process.cpuUsage() around each run; sequential latency is one call at a time.
 *
 *   npm run build && node dist/bench/in-process-bench.js [--calls N] [--sequential N] [--inflight N] [--reps N]
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BackendUrls } from "./backend-child.js";
import { startChild, type Child } from "./child.js";
import { measureCalls, tunnelTransport, type GatewayRun } from "./gateway-bench.js";
import { summarize, type Summary } from "./stats.js";

const here = dirname(fileURLToPath(import.meta.url));
const childScript = (name: string): string => resolve(here, `${name}.js`);

/** Figures of one path, over the repetitions. */
export interface InProcessPathResult {
  callsPerSec: Summary;
  /** Gateway + backend CPU per call (one process for in-process), µs. */
  serverCpuUsPerCall: Summary;
  clientCpuUsPerCall: Summary;
  sequentialUsPerCall: Summary;
  /** Server CPU per call when calls go one at a time, µs (steadier than latency on a loaded machine). */
  sequentialServerCpuUsPerCall: Summary;
}

/** CPU of every server process of a path, per call. */
function serverCpu(run: GatewayRun): number {
  return run.gatewayCpuUsPerCall + run.backendCpuUsPerCall;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      calls: { type: "string", default: "10000" },
      sequential: { type: "string", default: "2000" },
      inflight: { type: "string", default: "64" },
      reps: { type: "string", default: "3" },
    },
  });
  const calls = Number(values.calls);
  const sequential = Number(values.sequential);
  const inflight = Number(values.inflight);
  const reps = Number(values.reps);
  for (const [name, n] of Object.entries({ calls, sequential, inflight, reps }))
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);

  const children: Child[] = [];
  const started = (c: Child): Child => (children.push(c), c);
  try {
    const backend = started(startChild(childScript("backend-child")));
    const urls = await backend.request<BackendUrls>("start", { connectH2c: true });
    const gateway = started(startChild(childScript("gateway-child")));
    const { tunnelUrl: gatewayUrl } = await gateway.request<{ tunnelUrl: string }>("start", {
      upstream: urls.connectH2c,
      upstreamProtocol: "connect",
      maxMessageBytes: 64 << 20,
    });
    const app = started(startChild(childScript("in-process-child")));
    const { tunnelUrl: appUrl } = await app.request<{ tunnelUrl: string }>("start");

    const paths = {
      standalone: { tunnel: tunnelTransport(gatewayUrl), processes: { gateway, backend } },
      "in-process": { tunnel: tunnelTransport(appUrl), processes: { backend: app } },
    };
    const runs: Record<string, { load: GatewayRun[]; seq: number[]; seqCpu: number[] }> = {
      standalone: { load: [], seq: [], seqCpu: [] },
      "in-process": { load: [], seq: [], seqCpu: [] },
    };
    for (let rep = 1; rep <= reps; rep++) {
      for (const [name, path] of Object.entries(paths)) {
        const load = await measureCalls(path.tunnel.transport, calls, inflight, path.processes);
        const seq = await measureCalls(path.tunnel.transport, sequential, 1, path.processes);
        runs[name]!.load.push(load);
        runs[name]!.seq.push(1e6 / seq.callsPerSec);
        runs[name]!.seqCpu.push(serverCpu(seq));
        console.log(
          `[in-process bench] ${name.padEnd(10)} run ${rep}/${reps}: ${inflight} in flight ${load.callsPerSec.toFixed(0)} calls/s, ` +
            `server CPU ${serverCpu(load).toFixed(1)} µs/call (gateway ${load.gatewayCpuUsPerCall.toFixed(1)} + backend ${load.backendCpuUsPerCall.toFixed(1)}), ` +
            `client ${load.clientCpuUsPerCall.toFixed(1)} µs/call; sequential ${(1e6 / seq.callsPerSec).toFixed(1)} µs/call ` +
            `(server CPU ${serverCpu(seq).toFixed(1)} µs/call)`,
        );
      }
    }
    for (const p of Object.values(paths)) p.tunnel.close();
    const results: Record<string, InProcessPathResult> = {};
    for (const [name, r] of Object.entries(runs)) {
      results[name] = {
        callsPerSec: summarize(r.load.map((x) => x.callsPerSec)),
        serverCpuUsPerCall: summarize(r.load.map(serverCpu)),
        clientCpuUsPerCall: summarize(r.load.map((x) => x.clientCpuUsPerCall)),
        sequentialUsPerCall: summarize(r.seq),
        sequentialServerCpuUsPerCall: summarize(r.seqCpu),
      };
    }
    console.log(
      "\npath        calls/s (median)  server CPU µs/call   sequential µs/call    sequential server CPU µs/call  (median (min..max))",
    );
    for (const [name, r] of Object.entries(results)) {
      const f = (s: Summary, d = 1) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}..${s.max.toFixed(d)})`;
      console.log(
        `${name.padEnd(11)} ${f(r.callsPerSec, 0).padEnd(17)} ${f(r.serverCpuUsPerCall).padEnd(20)} ` +
          `${f(r.sequentialUsPerCall).padEnd(21)} ${f(r.sequentialServerCpuUsPerCall)}`,
      );
    }
    console.log(JSON.stringify({ date: new Date().toISOString(), calls, sequential, inflight, reps, results }));
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
