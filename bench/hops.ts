/**
 * The per-hop latency budget: sequential hello calls through the page SDK and through the
 * worker's fetch path, with every realm's trace hook on (protocol/trace.ts), printed as
 * one table per path (median µs per point over the calls, median of the runs).
 *
 *   node dist/bench/hops.js [--calls N] [--warmup N] [--reps N] [--paths page-sdk,tunnel-fetch] [--json out.json] [--profile-page]
 *   npm run bench -- --only hops   (the same, with the bench's run count)
 *
 * Chromium is driven over raw CDP and the pages are cross-origin isolated, as in the main
 * browser benchmark; the gateway and the Connect backend (h2c) run in their own processes.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import type { BackendUrls } from "./backend-child.js";
import { startChild, type Child } from "./child.js";
import { hopBudget, hopTable, median, type HopBudget, type HopRow } from "./hops-budget.js";
import type { HopMarks } from "./hops-recorder.js";
import type { HopsPath } from "./hops-page.js";
import { printTop, type Profile } from "./hops-profile.js";
import { launchChromium } from "../tools/chromium.js";
import { fromRoot } from "../tools/paths.js";
import { startStaticServer } from "../tools/static-server.js";
import { hopsRecord } from "./hops-record.js";

/** How much to run. */
export interface HopsPlan {
  calls: number;
  warmup: number;
  reps: number;
  paths: HopsPath[];
  /** Print the page's CPU profile of each path's last run (its functions by self time). */
  profilePage?: boolean;
}

/** One path's budget (points: median over the runs) and its µs per call while traced. */
export interface HopsPathResult {
  usPerCall: number;
  runs: number;
  budget: HopBudget;
}

export type HopsResults = Partial<Record<HopsPath, HopsPathResult>>;

const here = dirname(fileURLToPath(import.meta.url));
const apiBase = "https://api.swtunnel.invalid";
const html = `<!doctype html><meta charset="utf-8"><title>swtunnel hops</title><script type="module" src="/main.js"></script>`;

async function buildPage(dir: string): Promise<void> {
  await writeFile(join(dir, "index.html"), html);
  const common = { bundle: true, format: "esm", platform: "browser", target: "es2022", minify: true, logLevel: "warning" } as const;
  await Promise.all([
    build({ ...common, entryPoints: [fromRoot("bench/hops-page.ts")], outfile: join(dir, "main.js") }),
    build({ ...common, entryPoints: [fromRoot("bench/hops-sw.ts")], outfile: join(dir, "sw.js") }),
  ]);
}

/** Runs the budget; `log` gets one line per run. */
export async function runHops(plan: HopsPlan, log: (line: string) => void): Promise<HopsResults> {
  const children: Child[] = [];
  const www = await mkdtemp(join(tmpdir(), "swtunnel-hops-"));
  const site = await startStaticServer({ root: www });
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    await buildPage(www);
    const backend = startChild(resolve(here, "backend-child.js"));
    children.push(backend);
    const urls = await backend.request<BackendUrls>("start", { connectH2c: true });
    const gateway = startChild(resolve(here, "hops-gateway-child.js"));
    children.push(gateway);
    const { tunnelUrl } = await gateway.request<{ tunnelUrl: string }>("start", {
      upstream: urls.connectH2c,
      upstreamProtocol: "connect",
      allowOrigins: [site.origin],
    });
    browser = await launchChromium({
      extraArgs: ["--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"],
    });
    const page = await browser.newPage();
    page.onConsole((type, text) => {
      if (type === "error" || type === "warning") log(`page ${type}: ${text}`);
    });
    await page.goto(`${site.origin}/`);
    const info = await page.evaluate<{ isolated: boolean }>(
      `hops.init(${JSON.stringify({ scriptUrl: "/sw.js", gateway: tunnelUrl, baseUrl: apiBase })})`,
    );
    log(`${browser.version}, page cross-origin isolated: ${info.isolated}`);
    const results: HopsResults = {};
    for (const path of plan.paths) {
      const runs: { usPerCall: number; budget: HopBudget }[] = [];
      for (let rep = 1; rep <= plan.reps; rep++) {
        await page.evaluate(`hops.warm(${JSON.stringify(path)}, ${plan.warmup})`);
        await gateway.request("marks");
        const profiling = plan.profilePage && rep === plan.reps;
        if (profiling) {
          await page.send("Profiler.enable");
          await page.send("Profiler.setSamplingInterval", { interval: 50 });
          await page.send("Profiler.start");
        }
        const r = await page.evaluate<{ page: HopMarks; worker: HopMarks; usPerCall: number }>(
          `hops.run(${JSON.stringify(path)}, ${plan.calls})`,
        );
        if (profiling) {
          const { profile } = await page.send<{ profile: Profile }>("Profiler.stop");
          log(`${path}: the page's CPU profile of run ${rep}`);
          printTop(profile, 25);
        }
        const budget = hopBudget(r.page, r.worker, await gateway.request<HopMarks>("marks"));
        runs.push({ usPerCall: r.usPerCall, budget });
        log(
          `${path} run ${rep}/${plan.reps}: ${r.usPerCall.toFixed(0)} µs/call (traced)${budget.skipped.length ? `; skipped ${budget.skipped.join(", ")}` : ""}`,
        );
      }
      results[path] = { usPerCall: median(runs.map((r) => r.usPerCall)), runs: runs.length, budget: mergeRuns(runs.map((r) => r.budget)) };
    }
    return results;
  } finally {
    await browser?.close();
    await Promise.allSettled(children.map((c) => c.stop()));
    await site.close();
    await rm(www, { recursive: true, force: true });
  }
}

/** The median of each point over the runs, in the first run's order. */
function mergeRuns(runs: HopBudget[]): HopBudget {
  const first = runs[0]!;
  const rows: HopRow[] = first.rows.map((row) => {
    const same = runs.map((r) => r.rows.find((x) => x.point === row.point)).filter((x): x is HopRow => x !== undefined);
    return { ...row, atUs: median(same.map((x) => x.atUs)), deltaUs: median(same.map((x) => x.deltaUs)) };
  });
  return {
    calls: first.calls,
    rows,
    alignmentBoundUs: median(runs.map((r) => r.alignmentBoundUs)),
    skipped: [...new Set(runs.flatMap((r) => r.skipped))],
  };
}

/** The results as Markdown: one table per path. */
export function renderHops(results: HopsResults): string {
  const out: string[] = [];
  for (const [path, r] of Object.entries(results) as [HopsPath, HopsPathResult][]) {
    out.push(
      `**${path}**: ${r.usPerCall.toFixed(0)} µs/call traced; median of ${r.runs} runs of ${r.budget.calls} sequential calls ` +
        `(gateway clock aligned per call, within ±${r.budget.alignmentBoundUs.toFixed(0)} µs)`,
      "",
      hopTable(r.budget),
      "",
    );
  }
  return out.join("\n");
}

/**
 * The "Per-hop latency budget" section of docs/BENCHMARKS.md: what the budget is, the
 * before/after record of what was removed (bench/hops-record.ts), and this run's tables.
 */
export function renderHopsSection(results: HopsResults | undefined): string {
  return `\n${hopsRecord}${results ? `\n### This run\n\n${renderHops(results)}` : ""}`;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      calls: { type: "string", default: "500" },
      warmup: { type: "string", default: "200" },
      reps: { type: "string", default: "3" },
      paths: { type: "string", default: "page-sdk,tunnel-fetch" },
      json: { type: "string" },
      "profile-page": { type: "boolean", default: false },
    },
  });
  const plan: HopsPlan = {
    calls: Number(values.calls),
    warmup: Number(values.warmup),
    reps: Number(values.reps),
    paths: values.paths!.split(",") as HopsPath[],
    profilePage: values["profile-page"],
  };
  for (const p of plan.paths)
    if (p !== "page-sdk" && p !== "tunnel-fetch") throw new Error(`--paths takes page-sdk,tunnel-fetch; got ${p}`);
  for (const k of ["calls", "warmup", "reps"] as const)
    if (!Number.isInteger(plan[k]) || plan[k] < (k === "warmup" ? 0 : 1)) throw new Error(`--${k} must be a positive integer`);
  const results = await runHops(plan, (line) => process.stdout.write(`[hops] ${line}\n`));
  process.stdout.write(`\n${renderHops(results)}\n`);
  if (values.json) await writeFile(resolve(values.json), JSON.stringify({ date: new Date().toISOString(), plan, results }, null, 2));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`[hops] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
