/**
 * `npm run demo -- --headless --calls 64` end to end: the grpc-js backend, the gateway,
 * the demo page with its Workbox-built worker, in real headless Chromium (the demo
 * launches its own, so this spec uses no Playwright page). Asserts both SUCCESS lines
 * (fetch client and page-SDK transport, each call counted by the worker as carried
 * through the tunnel), that each run's label comes before its result, and exit code 0.
 * Not timed. Lives here rather than under test/ so that `vitest run` needs no browser.
 * Chromium only (playwright.config.ts leaves it out of the firefox and webkit projects):
 * it is about the demo's own launcher, which starts Debian's Chromium.
 */
import { execFileSync, spawn } from "node:child_process";
import { expect, test } from "@playwright/test";
import { bundleForNode } from "../tools/bundle-for-node.js";
import { main } from "../demo/run.js";

test("the headless demo makes 64 sequential SayHello calls through the tunnel with each client and exits 0", async () => {
  const lines: string[] = [];
  const code = await main(["--headless", "--calls", "64"], { log: (line) => lines.push(line) });
  expect(code).toBe(0);
  const success = /^SUCCESS running 64 transactions! \(average \d+\.\d\d µs per operation\)$/;
  const successes = lines.map((line, i) => [line, i] as const).filter(([line]) => success.test(line));
  expect(successes).toHaveLength(2);
  const fetchLabel = lines.indexOf("unmodified Connect client (fetch, carried by the worker):");
  const sdkLabel = lines.indexOf("page-SDK transport (MessagePort to the worker):");
  expect(fetchLabel).toBeGreaterThanOrEqual(0);
  // Each label is printed before its run's result, and the fetch run comes first.
  expect(fetchLabel).toBeLessThan(successes[0]![1]);
  expect(successes[0]![1]).toBeLessThan(sdkLabel);
  expect(sdkLabel).toBeLessThan(successes[1]![1]);
  // Progress while each run goes: "  7 / 64 calls"... between its label and its result.
  const progress = (from: number, to: number) => lines.slice(from + 1, to).filter((l) => /^ {2}\d+ \/ 64 calls$/.test(l));
  expect(progress(fetchLabel, successes[0]![1]).length).toBeGreaterThan(0);
  expect(progress(sdkLabel, successes[1]![1]).length).toBeGreaterThan(0);
});

test("the demo page shows the tunnel and the direct call side by side, with both lines in the live chart", async ({ page }) => {
  const lines: string[] = [];
  let stop!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stop = resolve));
  const running = main(["--port", "0", "--gateway-port", "0"], { log: (line) => lines.push(line), stopSignal });
  try {
    await expect.poll(() => lines.some((l) => l.includes("Ctrl-C stops the demo."))).toBe(true);
    const origin = /demo page: +(http:\/\/127\.0\.0\.1:\d+)\//.exec(lines.join("\n"))![1]!;
    await page.goto(`${origin}/`);
    await expect(page.locator("#status")).toHaveText(/connected|controlled/);
    // A probe a second on each path: both show a latency, and both chart lines get points.
    await expect(page.locator("#tunnel-last")).toHaveText(/^\d+\.\d\d ms$/, { timeout: 20_000 });
    await expect(page.locator("#direct-last")).toHaveText(/^\d+\.\d\d ms$/, { timeout: 20_000 });
    await expect(page.locator("#direct-median")).toHaveText(/^\d+\.\d\d ms$/);
    for (const series of ["tunnel", "direct"]) {
      await expect
        .poll(async () => ((await page.locator(`#latency-chart polyline.${series}`).getAttribute("points")) ?? "").split(" ").length, {
          timeout: 20_000,
        })
        .toBeGreaterThanOrEqual(2);
    }
    // The tunnel probes went through the worker; the direct ones did not count as carried.
    expect(Number(await page.locator("#carried").textContent())).toBeGreaterThan(0);
  } finally {
    stop();
    expect(await running).toBe(0);
  }
});

test("Ctrl-C during a headless run stops it: exit 130, Chromium and the servers gone", async () => {
  const bundle = await bundleForNode("demo/run.ts", "demo-run-e2e");
  const child = spawn(process.execPath, [bundle, "--headless", "--calls", "100000000"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await expect.poll(() => stdout, { timeout: 60_000 }).toMatch(/^ {2}\d+ \/ 100000000 calls$/m);
    const ports = [...new Set([...stdout.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))];
    expect(ports).toHaveLength(4);
    // The demo's children (Chromium) before the signal.
    const children = execFileSync("ps", ["-o", "pid=", "--ppid", String(child.pid)], { encoding: "utf8" })
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((pid) => pid > 0);
    expect(children.length).toBeGreaterThan(0);
    child.kill("SIGINT");
    expect(await exit).toBe(130);
    expect(stdout).toContain("interrupted; stopping");
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(() => children.filter(alive)).toEqual([]);
    const { createServer } = await import("node:net");
    for (const port of ports) {
      const free = await new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once("error", () => resolve(false));
        s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
      });
      expect(free, `port ${port}`).toBe(true);
    }
  } finally {
    child.kill("SIGKILL");
  }
});
