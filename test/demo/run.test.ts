/**
 * `npm run demo` as a user runs it: the real demo process (demo/run.ts built with esbuild,
 * spawned with node) starts everything and SIGINT stops it with exit 0 and every port
 * free; --help and a mistyped flag; a taken port is a one-line message naming the flag,
 * and a taken default port falls back to a free one. No browser.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { bundleForNode } from "../../tools/bundle-for-node.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { listenOn, main } from "../../demo/run.js";
import { startStaticServer } from "../../tools/static-server.js";

let bundle: string;

beforeAll(async () => {
  bundle = await bundleForNode("demo/run.ts", "demo-run");
});

/** The demo process: its output so far, and its exit. */
function spawnDemo(args: string[]) {
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, out, exit };
}

/** Resolves true when `port` on 127.0.0.1 can be listened on (nothing holds it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

const held: Server[] = [];
/** Holds a free port on 127.0.0.1 until the test ends. */
async function holdPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  held.push(s);
  return (s.address() as { port: number }).port;
}
afterEach(async () => {
  for (const s of held.splice(0)) await new Promise((resolve) => s.close(resolve));
});

describe("the demo process", () => {
  it("SIGINT stops everything: exit 0, and every port it listened on is free", async () => {
    const demo = spawnDemo(["--port", "0", "--gateway-port", "0"]);
    try {
      await expect.poll(() => demo.out.stdout, { timeout: 60_000, interval: 100 }).toContain("Ctrl-C stops the demo.");
      const ports = [...new Set([...demo.out.stdout.matchAll(/(?:http|ws):\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])))];
      expect(ports).toHaveLength(4); // backend, direct backend, gateway, page
      const page = demo.out.stdout.match(/demo page: +(http:\/\/127\.0\.0\.1:\d+)\//)![1]!;
      expect((await fetch(`${page}/`)).status).toBe(200);
      for (const port of ports) expect(await portFree(port)).toBe(false);
      demo.child.kill("SIGINT");
      expect(await demo.exit).toEqual({ code: 0, signal: null });
      expect(demo.out.stdout).toContain("stopping");
      for (const port of ports) expect(await portFree(port)).toBe(true);
      expect(demo.out.stderr).toBe("");
    } finally {
      demo.child.kill("SIGKILL");
    }
  });

  it("--help lists the options and exits 0", async () => {
    const demo = spawnDemo(["--help"]);
    expect(await demo.exit).toEqual({ code: 0, signal: null });
    expect(demo.out.stdout).toMatch(/^usage: npm run demo -- \[options\]/);
    expect(demo.out.stdout).toContain("--gateway-port PORT");
  });

  it("a mistyped flag exits 2 with a suggestion, no stack trace", async () => {
    const demo = spawnDemo(["--gatway-port", "9001"]);
    expect(await demo.exit).toEqual({ code: 2, signal: null });
    expect(demo.out.stderr).toBe(
      "[demo] unknown option --gatway-port; did you mean --gateway-port? (npm run demo -- --help lists the options)\n",
    );
  });
});

describe("taken ports", () => {
  it("a port asked for that is taken: one line naming the flag, exit 1", async () => {
    const taken = await holdPort();
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await main(["--port", String(taken)], {
      log: (l) => lines.push(l),
      error: (l) => errors.push(l),
      stopSignal: new Promise(() => {}),
    });
    expect(code).toBe(1);
    expect(errors).toEqual([`[demo] port ${taken} (demo page) is in use; pass another with --port PORT, or --port 0 for any free port`]);
  });

  it("the default port taken: a free port instead, and the demo says so", async () => {
    const taken = await holdPort();
    const lines: string[] = [];
    const site = await listenOn("demo page", "--port", undefined, taken, (port) => startStaticServer({ port }), {
      log: (l) => lines.push(l),
    });
    try {
      expect(site.port).not.toBe(taken);
      expect(site.port).toBeGreaterThan(0);
      expect(lines).toEqual([`port ${taken} (demo page) is in use; using a free port instead (--port PORT picks one)`]);
    } finally {
      await site.close();
    }
  });
});
