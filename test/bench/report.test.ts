import { describe, expect, it } from "vitest";
import type { BrowserResults, PathSummaries } from "../../bench/browser-bench.js";
import type { PathName } from "../../bench/page/types.js";
import { type BenchResults, evaluateTargets, renderMarkdown, renderSvg, timeSplit } from "../../bench/report.js";
import { summarize } from "../../bench/stats.js";

const paths = (values: Partial<Record<PathName, number>>): PathSummaries =>
  Object.fromEntries(Object.entries(values).map(([p, v]) => [p, summarize([v])]));

const browser = (engine: "chromium" | "firefox", over: Partial<BrowserResults> = {}): BrowserResults => ({
  engine,
  version: engine === "chromium" ? "Chrome/156" : "Firefox/153.8.0",
  isolated: true,
  fastPath: true,
  sequentialUsPerCall: paths({ "direct-h1": 2000, "tunnel-fetch": 3000, "tunnel-fastpath": 700, "page-sdk": 900, "ws-echo": 200 }),
  sparse: {
    medianUs: paths({ "direct-h1": 2500, "tunnel-fastpath": 2000 }),
    p90Us: paths({ "direct-h1": 4000, "tunnel-fastpath": 3000 }),
  },
  wasmwsUsPerCall: summarize([800, 780, 820]),
  concurrency: {
    "256": {
      callsPerSec: paths({ "direct-h1": 1000, "tunnel-fastpath": 3500, "page-sdk": 2500 }),
      p50Us: paths({}),
      p99Us: paths({}),
    },
  },
  stream: {
    "64KiB": { mbPerSec: paths({ "direct-h1": 100, "tunnel-fetch": 95, "page-sdk": 50 }), msgsPerSec: {} },
    "100B": { mbPerSec: {}, msgsPerSec: paths({ "direct-h1": 1000, "page-sdk-grpc": 850 }) },
  },
  bigMsPerRoundTrip: {},
  bidiUsPerRoundTrip: {},
  ...over,
});

const results = (over: Partial<BenchResults> = {}): BenchResults => ({
  date: "2026-12-02T17:00:00.000Z",
  command: "npm run bench -- --quick",
  quick: true,
  reps: 3,
  machine: { cpu: "test cpu", cores: 2, memoryGiB: 4, os: "Linux", node: "24", chromium: "Chromium 156" },
  plan: {},
  browser: browser("chromium"),
  gateway: {
    tunnel: {
      callsPerSec: summarize([9000]),
      gatewayCpuUsPerCall: summarize([80]),
      backendCpuUsPerCall: summarize([50]),
      clientCpuUsPerCall: summarize([40]),
    },
    direct: {
      callsPerSec: summarize([10000]),
      gatewayCpuUsPerCall: summarize([0]),
      backendCpuUsPerCall: summarize([50]),
      clientCpuUsPerCall: summarize([40]),
    },
  },
  bundles: [{ file: "sw.js", minBytes: 50_000, gzipBytes: 17 * 1024 }],
  ...over,
});

const find = (checks: ReturnType<typeof evaluateTargets>, name: string) => {
  const hit = checks.find((c) => c.name === name);
  if (!hit) throw new Error(`no target named ${name}; have ${checks.map((c) => c.name).join(" | ")}`);
  return hit;
};

describe("evaluateTargets", () => {
  it("reports issue 10's ratios from the run's own medians, met or missed", () => {
    const checks = evaluateTargets(results());
    expect(find(checks, "Chromium: fast path / wasmws, sequential (time per call)")).toEqual({
      name: "Chromium: fast path / wasmws, sequential (time per call)",
      met: true,
      detail: "0.88x (target <= 1x)",
    });
    expect(find(checks, "Chromium: page-SDK / wasmws, sequential (time per call)")).toMatchObject({
      met: false,
      detail: "1.13x (target <= 1x)",
    });
    expect(find(checks, "Chromium: fast path / direct HTTP/1.1, sequential (time per call)")).toMatchObject({
      met: true,
      detail: "0.35x (target <= 0.5x)",
    });
    expect(find(checks, "Chromium: tunnel-fetch / direct HTTP/1.1, sequential (time per call)")).toMatchObject({
      met: false,
      detail: "1.50x (target <= 1.3x)",
    });
    expect(find(checks, "Chromium: sparse (250 ms apart) fast path / direct HTTP/1.1 (median per call)")).toMatchObject({
      met: true,
      detail: "0.80x (target <= 0.8x)",
    });
    expect(find(checks, "256 in flight fast path / direct HTTP/1.1 (calls/s)")).toMatchObject({
      met: true,
      detail: "3.50x (target >= 3x)",
    });
    expect(find(checks, "256 in flight page-SDK / direct HTTP/1.1 (calls/s)")).toMatchObject({
      met: false,
      detail: "2.50x (target >= 3x)",
    });
    expect(find(checks, "stream 64 KiB messages tunnel-fetch / direct HTTP/1.1 (MB/s)")).toMatchObject({ met: false });
    expect(find(checks, "stream 64 KiB messages page-sdk / direct HTTP/1.1 (MB/s)")).toMatchObject({
      met: false,
      detail: "0.50x (target >= 1x)",
    });
    expect(find(checks, "stream 100 B messages, gRPC upstream (page-SDK) / direct HTTP/1.1 (msgs/s)")).toMatchObject({
      met: false,
      detail: "0.85x (target >= 0.9x)",
    });
    expect(find(checks, "gateway CPU per unary call (64 in flight)")).toMatchObject({ met: false, detail: "80.0 µs (target <= 75 µs)" });
    expect(find(checks, "worker bundle min+gzip")).toMatchObject({ met: true, detail: "17.0 KiB (target <= 20 KiB)" });
  });

  it("evaluates Firefox's sequential and sparse targets against Firefox's own wasmws run", () => {
    const firefox = browser("firefox", { wasmwsUsPerCall: summarize([600]) });
    const checks = evaluateTargets(results({ firefox }));
    expect(find(checks, "Firefox: fast path / wasmws, sequential (time per call)")).toMatchObject({
      met: false,
      detail: "1.17x (target <= 1x)",
    });
    expect(find(checks, "Chromium: fast path / wasmws, sequential (time per call)")).toMatchObject({ met: true });
  });

  it("says why a target was not measured instead of judging it", () => {
    const noWasmws = evaluateTargets(results({ browser: browser("chromium", { wasmwsUsPerCall: undefined }) }));
    expect(find(noWasmws, "Chromium: page-SDK / wasmws, sequential (time per call)")).toEqual({
      name: "Chromium: page-SDK / wasmws, sequential (time per call)",
      met: undefined,
      detail: "not measured (run with --wasmws DIR)",
    });
    const noFastPath = evaluateTargets(
      results({ browser: browser("chromium", { fastPath: false, sequentialUsPerCall: paths({ "direct-h1": 2000, "page-sdk": 900 }) }) }),
    );
    expect(find(noFastPath, "Chromium: fast path / direct HTTP/1.1, sequential (time per call)")).toMatchObject({
      met: undefined,
      detail: "not measured (the page-SDK bundle has no tunnelFetch)",
    });
    const nothing = evaluateTargets(results({ browser: undefined, gateway: undefined, bundles: undefined }));
    expect(nothing.every((c) => c.met === undefined)).toBe(true);
    expect(nothing.some((c) => c.name.startsWith("Firefox"))).toBe(false);
  });
});

/** A run with the like-for-like paths: the page's own socket and in-process mode, beside page-sdk and wasmws. */
const socketRun = (engine: "chromium" | "firefox", wasmws: number | undefined): BrowserResults =>
  browser(engine, {
    sequentialUsPerCall: paths({
      "direct-h1": 2000,
      "page-sdk": 2000,
      "page-socket": 1500,
      "page-sdk-inproc": 1400,
      "page-socket-inproc": 900,
    }),
    wasmwsUsPerCall: wasmws === undefined ? undefined : summarize([wasmws]),
  });

describe("the page-socket and in-process paths", () => {
  it("reports page-socket-inproc and page-SDK in-process over wasmws per engine", () => {
    const checks = evaluateTargets(results({ browser: socketRun("chromium", 1000), firefox: socketRun("firefox", 600) }));
    expect(find(checks, "Chromium: page-socket-inproc / wasmws, sequential (time per call)")).toEqual({
      name: "Chromium: page-socket-inproc / wasmws, sequential (time per call)",
      met: true,
      detail: "0.90x (target <= 1x)",
    });
    expect(find(checks, "Chromium: page-SDK in-process / wasmws, sequential (time per call)")).toMatchObject({
      met: false,
      detail: "1.40x (target <= 1x)",
    });
    expect(find(checks, "Firefox: page-socket-inproc / wasmws, sequential (time per call)")).toMatchObject({
      met: false,
      detail: "1.50x (target <= 1x)",
    });
    expect(find(checks, "Firefox: page-SDK in-process / wasmws, sequential (time per call)")).toMatchObject({
      detail: "2.33x (target <= 1x)",
    });
  });

  it("says wasmws is missing, or the path was not run, instead of judging the in-process targets", () => {
    const noWasmws = evaluateTargets(results({ browser: socketRun("chromium", undefined) }));
    expect(find(noWasmws, "Chromium: page-socket-inproc / wasmws, sequential (time per call)")).toMatchObject({
      met: undefined,
      detail: "not measured (run with --wasmws DIR)",
    });
    const notRun = evaluateTargets(results());
    expect(find(notRun, "Chromium: page-SDK in-process / wasmws, sequential (time per call)")).toMatchObject({
      met: undefined,
      detail: "not measured",
    });
  });

  it("splits the sequential call into layers by differences of medians", () => {
    expect(timeSplit(socketRun("chromium", 700))).toEqual([
      { layer: "Service Worker + MessagePort hops (page-sdk − page-socket)", us: 500 },
      { layer: "Service Worker + MessagePort hops, in-process (page-sdk-inproc − page-socket-inproc)", us: 500 },
      { layer: "separate Connect backend behind an HTTP/2 hop (page-socket − page-socket-inproc)", us: 600 },
      { layer: "the rest against wasmws (page-socket-inproc − wasmws demo)", us: 200 },
    ]);
    // Only the layers whose two figures were both measured.
    const partial = browser("chromium", {
      sequentialUsPerCall: paths({ "page-sdk": 2000, "page-socket": 1500 }),
      wasmwsUsPerCall: undefined,
    });
    expect(timeSplit(partial)).toEqual([{ layer: "Service Worker + MessagePort hops (page-sdk − page-socket)", us: 500 }]);
    expect(timeSplit(browser("chromium"))).toEqual([]);
  });

  it("puts the new rows in the sequential tables with x direct and / wasmws, and the layer table after them", () => {
    const r = results({ browser: socketRun("chromium", 1000), firefox: socketRun("firefox", 600) });
    const md = renderMarkdown(r);
    expect(md).toContain("| tunnel, the page's own socket (no worker) | 1500.0 (1500.0–1500.0) | 0.75x | 1.50x |");
    expect(md).toContain("| in-process mode, page-SDK transport | 1400.0 (1400.0–1400.0) | 0.70x | 1.40x |");
    expect(md).toContain("| in-process mode, the page's own socket (no worker) | 900.0 (900.0–900.0) | 0.45x | 0.90x |");
    expect(md).toContain("| in-process mode, the page's own socket (no worker) | 900.0 (900.0–900.0) | 0.45x | 1.50x |");
    expect(md.match(/### Where the time goes/g)).toHaveLength(2);
    expect(md).toContain("| the rest against wasmws (page-socket-inproc − wasmws demo) | -100.0 |");
    expect(md).toContain("| separate Connect backend behind an HTTP/2 hop (page-socket − page-socket-inproc) | 600.0 |");
    expect(renderMarkdown(results())).not.toContain("### Where the time goes");
    expect(renderSvg(r)).toContain(">in-process mode, the page's own socket (no worker)</text>");
  });
});

describe("renderMarkdown", () => {
  it("puts a / wasmws column and the wasmws row in the sequential tables, per engine", () => {
    const r = results({ firefox: browser("firefox", { wasmwsUsPerCall: summarize([600]) }) });
    r.targets = evaluateTargets(r);
    const md = renderMarkdown(r);
    expect(md).toContain("| path | µs per call | x direct HTTP/1.1 | / wasmws |");
    expect(md).toContain("| tunnel, fetch client over the page fast path | 700.0 (700.0–700.0) | 0.35x | 0.88x |");
    expect(md).toContain("| wasmws demo (grpc-go in wasm over a page WebSocket) | 800.0 (780.0–820.0) | 0.40x | 1.00x |");
    expect(md).toContain("## Firefox ESR: sequential and sparse calls, Firefox/153.8.0");
    expect(md).toContain("| tunnel, fetch client over the page fast path | 700.0 (700.0–700.0) | 0.35x | 1.17x |");
    expect(md).toContain("| tunnel, fetch client over the page fast path | 2000 (2000–2000) | 3000 (3000–3000) | 0.80x |");
    expect(md).toContain("| Chromium: fast path / wasmws, sequential (time per call) | met | 0.88x (target <= 1x) |");
  });

  it("falls back to wasmws's published figure, labelled as such, when wasmws did not run", () => {
    const r = results({ browser: browser("chromium", { wasmwsUsPerCall: undefined }) });
    const md = renderMarkdown(r);
    expect(md).not.toContain("/ wasmws |");
    expect(md).toContain("its README publishes 452.88 µs per call");
    expect(renderSvg(r)).toContain("wasmws (its README, other machine)");
    expect(renderSvg(results())).toContain("wasmws demo (same run)");
  });
});
