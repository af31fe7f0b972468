/**
 * Gateway CPU per call, profiled: the gateway bench's tunnel workload (grpc-js backend,
 * `calls` hello calls with `inflight` outstanding) against a gateway started with
 * --cpu-prof, then the functions with the most self time. For finding what a call costs;
 * bench/gateway-bench.ts (`npm run bench -- --only gateway`) gives the published figure.
 *
 *   node dist/bench/hops-gateway-cpu.js [--calls N] [--inflight N] [--top N] [--no-profile]
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BackendUrls } from "./backend-child.js";
import { startChild } from "./child.js";
import { measureCalls, tunnelTransport } from "./gateway-bench.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const here = dirname(fileURLToPath(import.meta.url));

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      calls: { type: "string", default: "20000" },
      inflight: { type: "string", default: "64" },
      top: { type: "string", default: "30" },
      "no-profile": { type: "boolean", default: false },
    },
  });
  const calls = Number(values.calls);
  const inflight = Number(values.inflight);
  const profile = !values["no-profile"];
  const dir = await mkdtemp(join(tmpdir(), "swtunnel-gwprof-"));
  const backend = startChild(resolve(here, "backend-child.js"));
  const gateway = startChild(resolve(here, "gateway-child.js"), { execArgv: profile ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [] });
  try {
    const urls = await backend.request<BackendUrls>("start", { grpc: true });
    const { tunnelUrl } = await gateway.request<{ tunnelUrl: string }>("start", { upstream: urls.grpc, upstreamProtocol: "grpc" });
    const tunnel = tunnelTransport(tunnelUrl);
    await measureCalls(tunnel.transport, 2000, inflight, { backend, gateway });
    for (let i = 0; i < 3; i++) {
      const run = await measureCalls(tunnel.transport, calls, inflight, { backend, gateway });
      process.stdout.write(
        `${calls} calls, ${inflight} in flight: ${run.callsPerSec.toFixed(0)} calls/s, gateway CPU ${run.gatewayCpuUsPerCall.toFixed(1)} µs/call\n`,
      );
    }
    tunnel.close();
  } finally {
    await gateway.stop();
    await backend.stop();
  }
  if (profile) {
    const file = (await readdir(dir)).find((f) => f.endsWith(".cpuprofile"));
    if (file) printTop(JSON.parse(await readFile(join(dir, file), "utf8")) as Profile, Number(values.top));
  }
  await rm(dir, { recursive: true, force: true });
}

function printTop(p: Profile, top: number): void {
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byName = new Map<string, number>();
  let total = 0;
  for (const node of p.nodes) {
    const t = self.get(node.id) ?? 0;
    total += t;
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^.*node_modules\//, "~/").replace(/^file:\/\/.*\/dist\//, "")}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"} ${where}`;
    byName.set(key, (byName.get(key) ?? 0) + t);
  }
  const idle = [...byName].filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
  process.stdout.write(`\nself time, of ${((total - idle) / 1000).toFixed(0)} ms busy:\n`);
  for (const [name, t] of [...byName]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    process.stdout.write(`${((100 * t) / (total - idle)).toFixed(1).padStart(5)}%  ${name}\n`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
