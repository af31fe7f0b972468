/**
 * `npm run bench`: measures swtunnel side by side with the alternatives in one run and
 * writes bench-results/latest.json, docs/BENCHMARKS.md and docs/bench.svg.
 *
 *   node dist/bench/run.js [--quick] [--json out.json] [--reps N] [--only browser,gateway,sockets,bundle,hops]
 *     [--workloads sequential,sparse,wasmws,concurrent,stream,big,bidi] [--paths tunnel-fetch,direct-h1,...]
 *     [--engines chromium,firefox] [--wasmws DIR [--wasmws-port PORT]] [--no-docs] [--help]
 *
 * `--workloads` / `--paths` make a partial browser run (to measure or profile one thing):
 * it prints its figures and writes only the `--json` file, never latest.json or the docs.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BackendRequest, BackendUrls } from "./backend-child.js";
import type { InProcessStartRequest } from "./in-process-child.js";
import { browserWorkloads, runBrowserBench, type BrowserPlan, type BrowserWorkload } from "./browser-bench.js";
import { engines, type Engine } from "./browser-driver.js";
import { locateWasmwsBuild, wasmwsBuildHint } from "./wasmws.js";
import { FIREFOX_PATH } from "../tools/firefox.js";
import { pathNames, type PathName } from "./page/types.js";
import { measureBundles } from "./bundle-size.js";
import { startChild, type Child } from "./child.js";
import { directTransport, measureCalls, tunnelTransport, type GatewayRun } from "./gateway-bench.js";
import { measureIdleSockets, type IdleSocketRun } from "./idle-sockets.js";
import { machineInfo } from "./machine.js";
import { fromRoot } from "../tools/paths.js";
import { evaluateTargets, renderMarkdown, renderSvg, type BenchResults } from "./report.js";
import { summarize } from "./stats.js";
import { makeSelfSignedCert } from "../tools/tls.js";
import { renderHops, renderHopsSection, runHops, type HopsResults } from "./hops.js";

const sections = ["browser", "gateway", "sockets", "bundle", "hops"] as const;
type Section = (typeof sections)[number];

const here = dirname(fileURLToPath(import.meta.url));
const childScript = (name: string): string => resolve(here, `${name}.js`);

/** `--help` text. */
export const usage = `npm run bench -- [options]

  --quick               smaller workloads, 3 runs: a few minutes
  --reps N              runs of each measurement (default 5, quick 3)
  --only LIST           sections: browser,gateway,sockets,bundle,hops (default all)
  --workloads LIST      browser workloads: ${browserWorkloads.join(",")} (a partial run: writes only --json)
  --paths LIST          browser paths: ${pathNames.join(",")} (a partial run)
  --engines LIST        ${engines.join(",")} (default both; Firefox runs sequential, sparse and wasmws)
  --wasmws DIR          run wasmws's own 8192-call demo side by side: DIR is a build of
                        /work/shared/wasmws/build.sh PORT (its demo/ directory or WASMWS_WORK);
                        the port is baked in at build time and read from DIR/static/client.wasm
  --wasmws-port PORT    the port the build used, if it cannot be read from the build
  --json FILE           also write the results there
  --no-docs             do not rewrite docs/BENCHMARKS.md and docs/bench.svg
  --help                this text
`;

function log(line: string): void {
  process.stdout.write(`[bench] ${line}\n`);
}

/** Runs the benchmark; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    // Tolerate the "--" that separates npm's own arguments when it is passed through.
    args: argv[0] === "--" ? argv.slice(1) : argv,
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      reps: { type: "string" },
      only: { type: "string" },
      "no-docs": { type: "boolean", default: false },
      workloads: { type: "string" },
      paths: { type: "string" },
      engines: { type: "string" },
      wasmws: { type: "string" },
      "wasmws-port": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const quick = values.quick ?? false;
  const reps = values.reps ? Number(values.reps) : quick ? 3 : 5;
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer, got ${values.reps}`);
  const only = new Set<Section>(values.only ? (values.only.split(",") as Section[]) : sections);
  for (const s of only) if (!sections.includes(s)) throw new Error(`--only takes ${sections.join(",")}; got ${s}`);

  const plan: BrowserPlan = quick
    ? {
        reps,
        sequentialCalls: 1024,
        sparseCalls: 20,
        sparseGapMs: 250,
        sparseReps: 1,
        concurrentCalls: 1024,
        inflight: [1, 16, 64, 256],
        streamBigCount: 128,
        streamSmallCount: 10_000,
        bigBytes: 4 << 20,
        bigRounds: 2,
        bidiRounds: 1024,
        warmup: 100,
      }
    : {
        reps,
        sequentialCalls: 8192,
        sparseCalls: 40,
        sparseGapMs: 250,
        sparseReps: reps,
        concurrentCalls: 2048,
        inflight: [1, 16, 64, 256],
        streamBigCount: 256,
        streamSmallCount: 20_000,
        bigBytes: 4 << 20,
        bigRounds: 4,
        bidiRounds: 2048,
        warmup: 200,
      };
  const partial = values.workloads !== undefined || values.paths !== undefined;
  if (values.workloads) {
    plan.workloads = values.workloads.split(",") as BrowserWorkload[];
    for (const w of plan.workloads)
      if (!browserWorkloads.includes(w)) throw new Error(`--workloads takes ${browserWorkloads.join(",")}; got ${w}`);
  }
  if (values.paths) {
    plan.paths = values.paths.split(",") as PathName[];
    for (const p of plan.paths) if (!pathNames.includes(p)) throw new Error(`--paths takes ${pathNames.join(",")}; got ${p}`);
  }
  if (values.engines) {
    plan.engines = values.engines.split(",") as Engine[];
    for (const e of plan.engines) if (!engines.includes(e)) throw new Error(`--engines takes ${engines.join(",")}; got ${e}`);
  }
  if (!plan.engines && !existsSync(FIREFOX_PATH)) {
    plan.engines = ["chromium"];
    if (only.has("browser")) log(`no ${FIREFOX_PATH}: Firefox is not measured (apt-get install firefox-esr, or set SWTUNNEL_FIREFOX)`);
  }
  if (values.wasmws) {
    const port = values["wasmws-port"] === undefined ? undefined : Number(values["wasmws-port"]);
    plan.wasmws = await locateWasmwsBuild(values.wasmws, port);
  } else if (only.has("browser")) {
    log(wasmwsBuildHint);
  }
  const gatewayCalls = quick ? 5_000 : 20_000;
  const gatewayInflight = 64;
  const gatewaySequentialCalls = quick ? 1_000 : 4_000;
  const socketCounts = [1000, 10_000];

  const startedAt = Date.now();
  const command = `npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}`;
  const results: BenchResults = {
    date: new Date().toISOString(),
    command,
    quick,
    reps,
    machine: await machineInfo(),
    plan: { browser: plan, gatewayCalls, gatewayInflight, gatewaySequentialCalls, socketCounts },
  };
  log(`${command}: ${reps} runs of each measurement${quick ? " (quick)" : ""}`);

  const children: Child[] = [];
  let hops: HopsResults | undefined;
  const started = (child: Child): Child => {
    children.push(child);
    return child;
  };
  try {
    const backend = started(startChild(childScript("backend-child")));
    const request: BackendRequest = { grpc: true, connectH2c: true };
    if (only.has("browser")) Object.assign(request, { connectH1: true, echo: true, connectH2Tls: await makeSelfSignedCert() });
    const urls = await backend.request<BackendUrls>("start", request);
    log(
      `backends: ${Object.entries(urls)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );

    if (only.has("bundle")) {
      const bundles = await measureBundles();
      results.bundles = bundles;
      for (const b of bundles) log(`bundle ${b.file}: ${b.minBytes} B minified, ${b.gzipBytes} B min+gzip`);
    }

    if (only.has("browser")) {
      const runs = await runBrowserBench(
        plan,
        {
          h1Url: need(urls.connectH1),
          h2Url: need(urls.connectH2Tls),
          echoUrl: need(urls.echo),
          async startGateway(allowOrigins, upstream) {
            const gateway = started(startChild(childScript("gateway-child")));
            const { tunnelUrl } = await gateway.request<{ tunnelUrl: string }>("start", {
              upstream: need(upstream === "grpc" ? urls.grpc : urls.connectH2c),
              upstreamProtocol: upstream,
              allowOrigins,
              maxMessageBytes: 64 << 20,
            });
            log(`gateway (upstream: ${upstream === "grpc" ? "grpc-js over gRPC" : "Connect backend over h2c"}): ${tunnelUrl}`);
            return tunnelUrl;
          },
          async startInProcess(allowOrigins) {
            const app = started(startChild(childScript("in-process-child")));
            const request: InProcessStartRequest = { allowOrigins };
            const { tunnelUrl } = await app.request<{ tunnelUrl: string }>("start", request);
            log(`in-process endpoint (createTunnelEndpoint, the Connect services in its process): ${tunnelUrl}`);
            return tunnelUrl;
          },
        },
        log,
      );
      results.browser = runs.chromium;
      results.firefox = runs.firefox;
    }

    if (only.has("gateway")) {
      const gateway = started(startChild(childScript("gateway-child")));
      const { tunnelUrl } = await gateway.request<{ tunnelUrl: string }>("start", {
        upstream: need(urls.grpc),
        upstreamProtocol: "grpc",
        maxMessageBytes: 64 << 20,
      });
      log(`gateway (upstream: grpc-js): ${tunnelUrl}`);
      const tunnel = tunnelTransport(tunnelUrl);
      const direct = directTransport(need(urls.grpc));
      const runs: { tunnel: GatewayRun[]; direct: GatewayRun[] } = { tunnel: [], direct: [] };
      const sequentialUs: { tunnel: number[]; direct: number[] } = { tunnel: [], direct: [] };
      for (let rep = 1; rep <= reps; rep++) {
        for (const which of ["direct", "tunnel"] as const) {
          const transport = which === "tunnel" ? tunnel.transport : direct;
          const processes = { backend, gateway: which === "tunnel" ? gateway : undefined };
          const name = which === "tunnel" ? "tunnel client -> gateway" : "direct HTTP/2 client   ";
          const run = await measureCalls(transport, gatewayCalls, gatewayInflight, processes);
          runs[which].push(run);
          log(
            `gateway bench ${name} ${gatewayInflight} in flight run ${rep}/${reps}: ` +
              `${run.callsPerSec.toFixed(0)} calls/s, CPU/call: gateway ${run.gatewayCpuUsPerCall.toFixed(1)} µs, ` +
              `backend ${run.backendCpuUsPerCall.toFixed(1)} µs, client ${run.clientCpuUsPerCall.toFixed(1)} µs`,
          );
          // One call at a time: the Node-side round trip, to set against the browser figures.
          const seq = await measureCalls(transport, gatewaySequentialCalls, 1, processes);
          sequentialUs[which].push(1e6 / seq.callsPerSec);
          log(`gateway bench ${name} sequential run ${rep}/${reps}: ${(1e6 / seq.callsPerSec).toFixed(1)} µs/call`);
        }
      }
      tunnel.close();
      await gateway.stop();
      const sum = (list: GatewayRun[], seq: number[]) => ({
        callsPerSec: summarize(list.map((r) => r.callsPerSec)),
        gatewayCpuUsPerCall: summarize(list.map((r) => r.gatewayCpuUsPerCall)),
        backendCpuUsPerCall: summarize(list.map((r) => r.backendCpuUsPerCall)),
        clientCpuUsPerCall: summarize(list.map((r) => r.clientCpuUsPerCall)),
        sequentialUsPerCall: summarize(seq),
      });
      results.gateway = { tunnel: sum(runs.tunnel, sequentialUs.tunnel), direct: sum(runs.direct, sequentialUs.direct) };
    }

    if (only.has("sockets")) {
      const perCount = new Map<number, IdleSocketRun[]>();
      for (let rep = 1; rep <= reps; rep++) {
        const gateway = started(startChild(childScript("gateway-child"), { execArgv: ["--expose-gc"] }));
        const clients = started(startChild(childScript("socket-clients-child")));
        const { tunnelUrl } = await gateway.request<{ tunnelUrl: string }>("start", {
          upstream: need(urls.grpc),
          maxSockets: 20_000,
          maxSocketsPerIp: 20_000,
          idleTimeoutMs: 0,
        });
        const runs = await measureIdleSockets(gateway, clients, tunnelUrl, socketCounts);
        for (const run of runs) {
          perCount.set(run.sockets, [...(perCount.get(run.sockets) ?? []), run]);
          log(
            `idle sockets ${run.sockets} run ${rep}/${reps}: ${(run.rssBytesPerSocket / 1024).toFixed(1)} KiB RSS/socket, ` +
              `${(run.heapBytesPerSocket / 1024).toFixed(1)} KiB heap/socket`,
          );
        }
        await clients.stop();
        await gateway.stop();
      }
      results.idleSockets = [...perCount].map(([sockets, runs]) => ({
        sockets,
        rssBytesPerSocket: summarize(runs.map((r) => r.rssBytesPerSocket)),
        heapBytesPerSocket: summarize(runs.map((r) => r.heapBytesPerSocket)),
      }));
    }
    if (only.has("hops")) {
      const hopsPlan = { calls: quick ? 300 : 1000, warmup: plan.warmup, reps, paths: ["page-sdk" as const, "tunnel-fetch" as const] };
      hops = await runHops(hopsPlan, (line) => log(`hops ${line}`));
      process.stdout.write(`\n${renderHops(hops)}\n`);
      Object.assign(results, { hops });
    }
  } finally {
    await Promise.allSettled(children.map((c) => c.stop()));
  }

  results.durationSeconds = Math.round((Date.now() - startedAt) / 1000);
  log(`wall time: ${results.durationSeconds} s`);
  if (partial) {
    if (values.json) await writeFile(resolve(values.json), JSON.stringify(results, null, 2));
    log(`partial run (--workloads/--paths): wrote ${values.json ?? "nothing"}`);
    return 0;
  }
  results.targets = evaluateTargets(results);
  const json = JSON.stringify(results, null, 2);
  await mkdir(fromRoot("bench-results"), { recursive: true });
  await writeFile(fromRoot("bench-results/latest.json"), json);
  if (values.json) await writeFile(resolve(values.json), json);
  if (!values["no-docs"]) {
    await writeFile(fromRoot("docs/BENCHMARKS.md"), renderMarkdown(results) + renderHopsSection(hops));
    await writeFile(fromRoot("docs/bench.svg"), renderSvg(results));
  }
  log("targets (reported, not asserted):");
  for (const t of results.targets) log(`  ${t.met === undefined ? "n/a   " : t.met ? "met   " : "MISSED"} ${t.name}: ${t.detail}`);
  log(
    `wrote bench-results/latest.json${values.json ? `, ${values.json}` : ""}${values["no-docs"] ? "" : ", docs/BENCHMARKS.md, docs/bench.svg"}`,
  );
  return 0;
}

function need(value: string | undefined): string {
  if (!value) throw new Error("a backend the benchmark needs did not start");
  return value;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
