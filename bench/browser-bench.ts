/**
 * The in-browser half of the benchmark: every path side by side in one headless Chromium
 * against the same backends. Direct paths and the WebSocket floor run on a page with no
 * worker (a controlled page sends every fetch through its worker, which would tax the
 * direct paths); the tunnel paths run on a second origin whose page registered the worker.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PathName, PageConfig } from "./page/types.js";
import type { BigResult, ConcurrentResult, PingPongResult, SequentialResult, StreamResult } from "./page/workloads.js";
import { buildBenchPage } from "./browser-page.js";
import type { CdpPage } from "../tools/cdp.js";
import { launchChromium } from "../tools/chromium.js";
import { startStaticServer } from "../tools/static-server.js";
import { summarize, type Summary } from "./stats.js";

/** Sizes of the browser workloads. */
export interface BrowserPlan {
  reps: number;
  sequentialCalls: number;
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
}

/** The browser workloads, as `--workloads` names them. */
export const browserWorkloads = ["sequential", "concurrent", "stream", "big", "bidi"] as const;
export type BrowserWorkload = (typeof browserWorkloads)[number];

/** Where the backends and the gateway listen. */
export interface BrowserTargets {
  h1Url: string;
  h2Url: string;
  echoUrl: string;
  /** Starts the gateway admitting the tunnel page's origin; resolves with its ws://host:port/tunnel URL. */
  startGateway(allowOrigin: string): Promise<string>;
}

/** Per-path summaries for one workload. */
export type PathSummaries = Partial<Record<PathName, Summary>>;

/** Everything the browser half measured. */
export interface BrowserResults {
  chromium: string;
  isolated: boolean;
  sequentialUsPerCall: PathSummaries;
  concurrency: Record<string, { callsPerSec: PathSummaries; p50Us: PathSummaries; p99Us: PathSummaries }>;
  stream: Record<"64KiB" | "100B", { mbPerSec: PathSummaries; msgsPerSec: PathSummaries }>;
  bigMsPerRoundTrip: PathSummaries;
  bidiUsPerRoundTrip: PathSummaries;
}

/** Base URL the tunnel paths call; the worker carries it (it resolves nowhere, so a missed interception fails loudly). */
export const tunnelApiBase = "https://api.swtunnel.invalid";

const allPaths: PathName[] = ["direct-h1", "direct-h2", "tunnel-fetch", "page-sdk", "ws-echo", "fetch-echo"];
const streamPaths: PathName[] = ["direct-h1", "direct-h2", "tunnel-fetch", "page-sdk"];
const bidiPaths: PathName[] = ["page-sdk", "ws-echo"];

/** Runs the browser workloads; `log` gets one progress line per measurement. */
export async function runBrowserBench(plan: BrowserPlan, targets: BrowserTargets, log: (line: string) => void): Promise<BrowserResults> {
  const www = await mkdtemp(join(tmpdir(), "swtunnel-bench-www-"));
  await buildBenchPage(www);
  const plainSite = await startStaticServer({ root: www });
  const tunnelSite = await startStaticServer({ root: www });
  const tunnelUrl = await targets.startGateway(tunnelSite.origin);
  const browser = await launchChromium({
    ignoreCertificateErrors: true,
    extraArgs: ["--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"],
  });
  try {
    log(`browser: ${browser.version}`);
    const plain = await browser.newPage();
    const tunnel = await browser.newPage();
    for (const page of [plain, tunnel]) {
      page.onConsole((type, text) => {
        if (type === "error" || type === "warning") log(`  page ${type}: ${text}`);
      });
    }
    await plain.goto(`${plainSite.origin}/`);
    const plainInfo = await plain.evaluate<{ isolated: boolean }>(
      `swbench.init(${JSON.stringify({ h1Url: targets.h1Url, h2Url: targets.h2Url, echoUrl: targets.echoUrl } satisfies PageConfig)})`,
    );
    await tunnel.goto(`${tunnelSite.origin}/`);
    const tunnelInfo = await tunnel.evaluate<{ isolated: boolean }>(
      `swbench.init(${JSON.stringify({
        tunnel: { scriptUrl: "/sw.js", gateway: tunnelUrl, match: [`${tunnelApiBase}/`] },
        tunnelBaseUrl: tunnelApiBase,
      } satisfies PageConfig)})`,
    );
    const isolated = plainInfo.isolated && tunnelInfo.isolated;
    log(`pages cross-origin isolated: ${isolated}`);
    const pageFor = (path: PathName): CdpPage => (path === "tunnel-fetch" || path === "page-sdk" ? tunnel : plain);
    const call = <T>(path: PathName, fn: string, ...args: unknown[]): Promise<T> =>
      pageFor(path).evaluate<T>(`swbench.${fn}(${[path, ...args].map((a) => JSON.stringify(a)).join(", ")})`);

    /** Runs `measure` reps times for each path, interleaving paths within each rep. */
    const repeat = async <T>(
      label: string,
      paths: PathName[],
      measure: (path: PathName) => Promise<T>,
      describe: (value: T) => string,
    ): Promise<Partial<Record<PathName, T[]>>> => {
      const out: Partial<Record<PathName, T[]>> = {};
      for (let rep = 1; rep <= plan.reps; rep++) {
        for (const path of paths) {
          const value = await measure(path);
          (out[path] ??= []).push(value);
          log(`${label} ${path.padEnd(12)} run ${rep}/${plan.reps}: ${describe(value)}`);
        }
      }
      return out;
    };
    const wanted = (w: BrowserWorkload) => !plan.workloads || plan.workloads.includes(w);
    const only = (paths: PathName[]) => (plan.paths ? paths.filter((p) => plan.paths!.includes(p)) : paths);
    const pick = <T>(runs: Partial<Record<PathName, T[]>>, field: (v: T) => number): PathSummaries => {
      const out: PathSummaries = {};
      for (const [path, values] of Object.entries(runs) as [PathName, T[]][]) out[path] = summarize(values.map(field));
      return out;
    };

    const seq = !wanted("sequential")
      ? {}
      : await repeat(
          `sequential ${plan.sequentialCalls} calls`,
          only(allPaths),
          (path) => call<SequentialResult>(path, "sequential", plan.sequentialCalls, plan.warmup),
          (v) => `${v.usPerCall.toFixed(1)} µs/call`,
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
      chromium: browser.version,
      isolated,
      sequentialUsPerCall: pick(seq, (v) => v.usPerCall),
      concurrency,
      stream,
      bigMsPerRoundTrip: pick(big, (v) => v.msPerRoundTrip),
      bidiUsPerRoundTrip: pick(bidi, (v) => v.usPerRoundTrip),
    };
  } finally {
    await browser.close();
    await Promise.all([plainSite.close(), tunnelSite.close()]);
    await rm(www, { recursive: true, force: true });
  }
}
