/**
 * The in-browser half of the benchmark: every path side by side in one headless browser
 * against the same backends, Chromium (over raw CDP) for every workload and Firefox ESR
 * (over raw WebDriver BiDi) for the sequential and sparse ones; wasmws's own demo runs in
 * the same browsers when a build is given. Direct paths and the WebSocket floor run on a
 * page with no worker (a controlled page sends every fetch through its worker, which would
 * tax the direct paths); the tunnel paths run on a second origin whose page registered the
 * worker, and the gRPC-upstream path on a third whose worker's gateway speaks gRPC to grpc-js.
 * The page's own tunnel socket (page-socket, no worker) runs on the worker-less page. The
 * in-process paths (the RPC service in the process holding the WebSocket, as in wasmws)
 * reach an in-process endpoint: page-sdk-inproc from a fourth origin with its own worker,
 * page-socket-inproc from the worker-less page.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PathName, PageConfig } from "./page/types.js";
import type { BigResult, ConcurrentResult, PingPongResult, SequentialResult, SparseResult, StreamResult } from "./page/workloads.js";
import { buildBenchPage } from "./browser-page.js";
import { launchBenchBrowser, type BenchPage, type Engine } from "./browser-driver.js";
import { startStaticServer, type StaticServer } from "../tools/static-server.js";
import { summarize, type Summary } from "./stats.js";
import { runWasmwsDemo, startWasmwsServer, type WasmwsBuild, type WasmwsServer } from "./wasmws.js";

/** Sizes of the browser workloads. */
export interface BrowserPlan {
  reps: number;
  sequentialCalls: number;
  /** Sparse workload: calls per run, the idle gap before each, and runs (each takes calls x gap per path). */
  sparseCalls: number;
  sparseGapMs: number;
  sparseReps: number;
  concurrentCalls: number;
  inflight: number[];
  streamBigCount: number;
  streamSmallCount: number;
  bigBytes: number;
  bigRounds: number;
  bidiRounds: number;
  warmup: number;
  /** Only these workloads (a partial run for profiling one); default all. */
  workloads?: BrowserWorkload[];
  /** Only these paths; default all. */
  paths?: PathName[];
  /** Browsers to run; default both. */
  engines?: Engine[];
  /** The wasmws demo build to run side by side; none: wasmws is not measured. */
  wasmws?: WasmwsBuild;
}

/** The browser workloads, as `--workloads` names them. */
export const browserWorkloads = ["sequential", "sparse", "wasmws", "concurrent", "stream", "big", "bidi"] as const;
export type BrowserWorkload = (typeof browserWorkloads)[number];
/** The workloads Firefox runs (the rest are Chromium's alone). */
export const firefoxWorkloads: readonly BrowserWorkload[] = ["sequential", "sparse", "wasmws"];

/** Where the backends and the gateway listen. */
export interface BrowserTargets {
  h1Url: string;
  h2Url: string;
  echoUrl: string;
  /**
   * Starts a gateway admitting these page origins, forwarding to the Connect backend over
   * h2c (`connect`) or to grpc-js over gRPC (`grpc`); resolves with its ws://host:port/tunnel URL.
   */
  startGateway(allowOrigins: string[], upstream: "connect" | "grpc"): Promise<string>;
  /**
   * Starts in-process mode (createTunnelEndpoint serving the Connect backend's services in
   * the process holding the WebSocket) admitting these page origins; resolves with its tunnel URL.
   */
  startInProcess(allowOrigins: string[]): Promise<string>;
}

/** Per-path summaries for one workload. */
export type PathSummaries = Partial<Record<PathName, Summary>>;

/** Everything the browser half measured in one engine. */
export interface BrowserResults {
  engine: Engine;
  /** Product string of the browser. */
  version: string;
  isolated: boolean;
  /** Whether the page-SDK bundle had the fast path (tunnelFetch), so tunnel-fastpath ran. */
  fastPath: boolean;
  sequentialUsPerCall: PathSummaries;
  /** Sparse calls: median and p90 µs per call of each run, summarised over runs. */
  sparse: { medianUs: PathSummaries; p90Us: PathSummaries };
  /** wasmws's own demo in this browser: µs per call from its SUCCESS line. */
  wasmwsUsPerCall?: Summary;
  concurrency: Record<string, { callsPerSec: PathSummaries; p50Us: PathSummaries; p99Us: PathSummaries }>;
  stream: Record<"64KiB" | "100B", { mbPerSec: PathSummaries; msgsPerSec: PathSummaries }>;
  bigMsPerRoundTrip: PathSummaries;
  bidiUsPerRoundTrip: PathSummaries;
}

/** The browser half's results by engine. */
export type BrowserRuns = Partial<Record<Engine, BrowserResults>>;

/** Base URL the tunnel paths call; the worker carries it (it resolves nowhere, so a missed interception fails loudly). */
export const tunnelApiBase = "https://api.swtunnel.invalid";

/** The paths that compare like with like with wasmws: the page's own socket, and in-process mode. */
const socketPaths: PathName[] = ["page-socket", "page-sdk-inproc", "page-socket-inproc"];
const allPaths: PathName[] = [
  "direct-h1",
  "direct-h2",
  "tunnel-fetch",
  "tunnel-fastpath",
  "page-sdk",
  ...socketPaths,
  "ws-echo",
  "fetch-echo",
];
// Sparse calls cost calls x gap per path and run; the socket paths are left out of them.
const sparsePaths: PathName[] = ["direct-h1", "tunnel-fetch", "tunnel-fastpath", "page-sdk", "ws-echo"];
const streamPaths: PathName[] = ["direct-h1", "direct-h2", "tunnel-fetch", "tunnel-fastpath", "page-sdk", "page-sdk-grpc", ...socketPaths];
const bidiPaths: PathName[] = ["page-sdk", ...socketPaths, "ws-echo"];
const tunnelPaths: ReadonlySet<PathName> = new Set(["tunnel-fetch", "tunnel-fastpath", "page-sdk"]);
const inProcessPaths: readonly PathName[] = ["page-sdk-inproc", "page-socket-inproc"];

/** Runs the browser workloads in each engine; `log` gets one progress line per measurement. */
export async function runBrowserBench(plan: BrowserPlan, targets: BrowserTargets, log: (line: string) => void): Promise<BrowserRuns> {
  const wanted = (w: BrowserWorkload) => !plan.workloads || plan.workloads.includes(w);
  const www = await mkdtemp(join(tmpdir(), "swtunnel-bench-www-"));
  const sites: StaticServer[] = [];
  let wasmws: WasmwsServer | undefined;
  try {
    await buildBenchPage(www);
    const site = async () => {
      const server = await startStaticServer({ root: www });
      sites.push(server);
      return server;
    };
    const plainSite = await site();
    const tunnelSite = await site();
    // The worker-less page is admitted too: page-socket opens its own socket from there.
    const tunnelUrl = await targets.startGateway([tunnelSite.origin, plainSite.origin], "connect");
    const pathWanted = (p: PathName) => !plan.paths || plan.paths.includes(p);
    const grpcPathWanted = wanted("stream") && pathWanted("page-sdk-grpc");
    const grpcSite = grpcPathWanted ? await site() : undefined;
    const grpcTunnelUrl = grpcSite ? await targets.startGateway([grpcSite.origin], "grpc") : undefined;
    // In-process mode: one worker per origin, so page-sdk-inproc's worker gets an origin of its own.
    const inprocWanted = browserWorkloads.some((w) => w !== "wasmws" && w !== "sparse" && wanted(w)) && inProcessPaths.some(pathWanted);
    const inprocSite = inprocWanted && pathWanted("page-sdk-inproc") ? await site() : undefined;
    const inprocUrl = inprocWanted
      ? await targets.startInProcess(inprocSite ? [inprocSite.origin, plainSite.origin] : [plainSite.origin])
      : undefined;
    if (plan.wasmws && wanted("wasmws")) {
      wasmws = await startWasmwsServer(plan.wasmws);
      log(`wasmws demo server: ${wasmws.origin} (${plan.wasmws.dir})`);
    }
    const sitesFor = { plainSite, tunnelSite, tunnelUrl, grpcSite, grpcTunnelUrl, inprocSite, inprocUrl, wasmwsOrigin: wasmws?.origin };
    const runs: BrowserRuns = {};
    for (const engine of plan.engines ?? (["chromium", "firefox"] as const)) {
      const engineWorkloads = engine === "firefox" ? firefoxWorkloads : browserWorkloads;
      if (!engineWorkloads.some(wanted)) continue;
      runs[engine] = await runEngine(engine, { ...plan, workloads: engineWorkloads.filter(wanted) }, targets, sitesFor, log);
    }
    return runs;
  } finally {
    await wasmws?.stop();
    await Promise.all(sites.map((s) => s.close()));
    await rm(www, { recursive: true, force: true });
  }
}

interface Sites {
  plainSite: StaticServer;
  tunnelSite: StaticServer;
  tunnelUrl: string;
  grpcSite?: StaticServer;
  grpcTunnelUrl?: string;
  /** The origin whose worker's gateway is the in-process endpoint (page-sdk-inproc). */
  inprocSite?: StaticServer;
  /** The in-process endpoint's tunnel URL. */
  inprocUrl?: string;
  wasmwsOrigin?: string;
}

async function runEngine(
  engine: Engine,
  plan: BrowserPlan & { workloads: BrowserWorkload[] },
  targets: BrowserTargets,
  sites: Sites,
  log: (line: string) => void,
): Promise<BrowserResults> {
  const browser = await launchBenchBrowser(engine);
  try {
    log(`browser: ${browser.version} (${engine})`);
    const open = async (url: string, config: PageConfig) => {
      const page = await browser.newPage();
      page.onConsole((type, text) => {
        if (type === "error" || type === "warning" || type === "warn") log(`  page ${type}: ${text}`);
      });
      await page.goto(url);
      const info = await page.evaluate<{ isolated: boolean; fastPath: boolean }>(`swbench.init(${JSON.stringify(config)})`);
      return { page, info };
    };
    const plain = await open(`${sites.plainSite.origin}/`, {
      h1Url: targets.h1Url,
      h2Url: targets.h2Url,
      echoUrl: targets.echoUrl,
      socketUrl: sites.tunnelUrl,
      inprocSocketUrl: sites.inprocUrl,
    });
    const tunnelConfig = (gateway: string): PageConfig => ({
      tunnel: { scriptUrl: "/sw.js", gateway, match: [`${tunnelApiBase}/`] },
      tunnelBaseUrl: tunnelApiBase,
    });
    const tunnel = await open(`${sites.tunnelSite.origin}/`, tunnelConfig(sites.tunnelUrl));
    const grpc =
      sites.grpcSite && sites.grpcTunnelUrl ? await open(`${sites.grpcSite.origin}/`, tunnelConfig(sites.grpcTunnelUrl)) : undefined;
    const inproc =
      sites.inprocSite && sites.inprocUrl ? await open(`${sites.inprocSite.origin}/`, tunnelConfig(sites.inprocUrl)) : undefined;
    const isolated = plain.info.isolated && tunnel.info.isolated;
    const fastPath = tunnel.info.fastPath;
    log(`pages cross-origin isolated: ${isolated}`);
    if (!fastPath) log("the page-SDK bundle has no tunnelFetch (fast path): tunnel-fastpath is not measured");
    const pageFor = (path: PathName): BenchPage => {
      if (path === "page-sdk-grpc") {
        if (!grpc) throw new Error("page-sdk-grpc needs the gRPC-upstream page");
        return grpc.page;
      }
      if (path === "page-sdk-inproc") {
        if (!inproc) throw new Error("page-sdk-inproc needs the in-process page");
        return inproc.page;
      }
      return tunnelPaths.has(path) ? tunnel.page : plain.page;
    };
    const call = <T>(path: PathName, fn: string, ...args: unknown[]): Promise<T> =>
      pageFor(path).evaluate<T>(`swbench.${fn}(${[path, ...args].map((a) => JSON.stringify(a)).join(", ")})`);

    /** Runs `measure` reps times for each path, interleaving paths within each rep. */
    const repeat = async <T>(
      label: string,
      paths: PathName[],
      measure: (path: PathName) => Promise<T>,
      describe: (value: T) => string,
      reps = plan.reps,
    ): Promise<Partial<Record<PathName, T[]>>> => {
      const out: Partial<Record<PathName, T[]>> = {};
      for (let rep = 1; rep <= reps; rep++) {
        for (const path of paths) {
          const value = await measure(path);
          (out[path] ??= []).push(value);
          log(`${engine} ${label} ${path.padEnd(18)} run ${rep}/${reps}: ${describe(value)}`);
        }
      }
      return out;
    };
    const wanted = (w: BrowserWorkload) => plan.workloads.includes(w);
    const only = (paths: PathName[]) =>
      paths.filter(
        (p) =>
          (!plan.paths || plan.paths.includes(p)) &&
          (p !== "tunnel-fastpath" || fastPath) &&
          (p !== "page-sdk-grpc" || grpc) &&
          (p !== "page-sdk-inproc" || inproc) &&
          (p !== "page-socket-inproc" || sites.inprocUrl),
      );
    const pick = <T>(runs: Partial<Record<PathName, T[]>>, field: (v: T) => number): PathSummaries => {
      const out: PathSummaries = {};
      for (const [path, values] of Object.entries(runs) as [PathName, T[]][]) out[path] = summarize(values.map(field));
      return out;
    };

    let wasmwsUsPerCall: Summary | undefined;
    if (wanted("wasmws") && sites.wasmwsOrigin) {
      const page = await browser.newPage();
      const values: number[] = [];
      for (let rep = 1; rep <= plan.reps; rep++) {
        const result = await runWasmwsDemo(page, sites.wasmwsOrigin);
        values.push(result.usPerCall);
        log(`${engine} wasmws demo ${result.calls} calls run ${rep}/${plan.reps}: ${result.usPerCall.toFixed(1)} µs/call`);
        await page.goto("about:blank");
      }
      wasmwsUsPerCall = summarize(values);
    }
    const seq = !wanted("sequential")
      ? {}
      : await repeat(
          `sequential ${plan.sequentialCalls} calls`,
          only(allPaths),
          (path) => call<SequentialResult>(path, "sequential", plan.sequentialCalls, plan.warmup),
          (v) => `${v.usPerCall.toFixed(1)} µs/call`,
        );
    const sparse = !wanted("sparse")
      ? {}
      : await repeat(
          `sparse ${plan.sparseCalls} calls ${plan.sparseGapMs} ms apart`,
          only(sparsePaths),
          (path) => call<SparseResult>(path, "sparse", plan.sparseCalls, plan.sparseGapMs, 1),
          (v) => `median ${v.medianUs.toFixed(0)} µs, p90 ${v.p90Us.toFixed(0)} µs`,
          plan.sparseReps,
        );
    const concurrency: BrowserResults["concurrency"] = {};
    for (const inflight of wanted("concurrent") ? plan.inflight : []) {
      const runs = await repeat(
        `${inflight} in flight`,
        only(allPaths),
        (path) => call<ConcurrentResult>(path, "concurrent", plan.concurrentCalls, inflight, plan.warmup),
        (v) => `${v.callsPerSec.toFixed(0)} calls/s, p50 ${v.p50Us.toFixed(0)} µs, p99 ${v.p99Us.toFixed(0)} µs`,
      );
      concurrency[String(inflight)] = {
        callsPerSec: pick(runs, (v) => v.callsPerSec),
        p50Us: pick(runs, (v) => v.p50Us),
        p99Us: pick(runs, (v) => v.p99Us),
      };
    }
    const streamOf = async (size: number, count: number, label: string) => {
      const runs = await repeat(
        `server stream ${label} x ${count}`,
        only(streamPaths),
        (path) => call<StreamResult>(path, "stream", size, count),
        (v) => `${v.mbPerSec.toFixed(1)} MB/s, ${v.msgsPerSec.toFixed(0)} msgs/s`,
      );
      return { mbPerSec: pick(runs, (v) => v.mbPerSec), msgsPerSec: pick(runs, (v) => v.msgsPerSec) };
    };
    const none = { mbPerSec: {}, msgsPerSec: {} };
    const stream = {
      "64KiB": wanted("stream") ? await streamOf(64 << 10, plan.streamBigCount, "64 KiB") : none,
      "100B": wanted("stream") ? await streamOf(100, plan.streamSmallCount, "100 B") : none,
    };
    const big = !wanted("big")
      ? {}
      : await repeat(
          `${plan.bigBytes >> 20} MiB round trip`,
          only(allPaths),
          (path) => call<BigResult>(path, "bigRoundTrip", plan.bigBytes, plan.bigRounds),
          (v) => `${v.msPerRoundTrip.toFixed(1)} ms`,
        );
    const bidi = !wanted("bidi")
      ? {}
      : await repeat(
          `bidi ping-pong x ${plan.bidiRounds}`,
          only(bidiPaths),
          (path) => call<PingPongResult>(path, "bidiPingPong", plan.bidiRounds, plan.warmup),
          (v) => `${v.usPerRoundTrip.toFixed(1)} µs/round trip`,
        );
    return {
      engine,
      version: browser.version,
      isolated,
      fastPath,
      sequentialUsPerCall: pick(seq, (v) => v.usPerCall),
      sparse: { medianUs: pick(sparse, (v) => v.medianUs), p90Us: pick(sparse, (v) => v.p90Us) },
      wasmwsUsPerCall,
      concurrency,
      stream,
      bigMsPerRoundTrip: pick(big, (v) => v.msPerRoundTrip),
      bidiUsPerRoundTrip: pick(bidi, (v) => v.usPerRoundTrip),
    };
  } finally {
    await browser.close();
  }
}
