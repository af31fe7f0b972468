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
import { printTop, type Profile } from "./hops-profile.js";

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

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
