/**
 * `npm run demo`: the grpc-js backend (DemoService), the gateway, the demo page's server
 * and a connect-node backend the page calls directly for comparison, on loopback with
 * built-in defaults. Ctrl-C stops everything. `--help` lists the options (demo/options.ts).
 *
 *   node dist/demo/run.js [--port 8080] [--gateway-port 8081]
 *   node dist/demo/run.js --headless [--calls 8192]
 *
 * --headless drives the page in headless Chromium (raw CDP, no Playwright) and makes
 * `--calls` sequential SayHello calls with the unmodified fetch client, then with the
 * page-SDK transport, printing each run's label, its progress, then wasmws's
 * "SUCCESS running N transactions!" line.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, type Chromium } from "../tools/chromium.js";
import { fromRoot } from "../tools/paths.js";
import { startStaticServer } from "../tools/static-server.js";
import { createGateway } from "../server/index.js";
// The backends' own modules rather than backend/index.js, which also carries the backend
// CLI: bundled into one file (test/demo/run.test.ts), its main-module check would fire too.
import { startConnectBackendHttp1 } from "./backend/connect-server.js";
import { startGrpcBackend } from "./backend/grpc-server.js";
import { buildDemoApp } from "./build-app.js";
import { demoHelp, parseDemoArgs, UsageError, type DemoOptions } from "./options.js";

/** Where the demo writes its lines (stdout and stderr by default; tests collect them). */
export interface DemoIo {
  log(line: string): void;
  /** Errors and usage problems (default: stderr; falls back to `log`). */
  error?(line: string): void;
  /** Resolves when the demo should stop (default: SIGINT or SIGTERM). */
  stopSignal?: Promise<void>;
}

const defaultIo: DemoIo = {
  log: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};

interface SequentialRun {
  calls: number;
  averageUs: number;
  carried: number;
}

/** A failure the demo explains in one line (no stack trace): exit code 1. */
export class DemoError extends Error {
  override readonly name = "DemoError";
}

/** Runs the demo; resolves with the process exit code (0 done, 1 failed, 2 bad arguments). */
export async function main(argv: string[], io: DemoIo = defaultIo): Promise<number> {
  const error = io.error ?? io.log;
  let options: DemoOptions;
  try {
    options = parseDemoArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    error(`[demo] ${e.message}`);
    return 2;
  }
  if (options.help) {
    io.log(demoHelp());
    return 0;
  }
  try {
    return await run(options, io);
  } catch (e) {
    if (!(e instanceof DemoError)) throw e;
    error(`[demo] ${e.message}`);
    return 1;
  }
}

/**
 * Listens on `wanted`, or on the default port when none was asked for; when the default
 * is taken, on a free port instead (saying so). A port the user asked for that is taken
 * is a DemoError naming the flag.
 */
export async function listenOn<T>(
  what: string,
  flag: string,
  wanted: number | undefined,
  fallback: number,
  start: (port: number) => Promise<T>,
  io: DemoIo,
): Promise<T> {
  try {
    return await start(wanted ?? fallback);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    if (wanted !== undefined) {
      throw new DemoError(`port ${wanted} (${what}) is in use; pass another with ${flag} PORT, or ${flag} 0 for any free port`);
    }
    const server = await start(0);
    io.log(`port ${fallback} (${what}) is in use; using a free port instead (${flag} PORT picks one)`);
    return server;
  }
}

async function run(options: DemoOptions, io: DemoIo): Promise<number> {
  const { headless, calls, host } = options;
  // Fixed ports by default so a browser's cached worker finds the same gateway next time;
  // free ports when headless (a fresh profile, and runs may overlap).
  const defaultPort = headless ? 0 : 8080;
  const defaultGatewayPort = headless ? 0 : 8081;

  // Listening from the start: Ctrl-C while starting or during a headless run also stops
  // everything cleanly (Chromium included) instead of killing the process half-way.
  const signals = io.stopSignal ? undefined : listenForSignals();
  const stop = io.stopSignal ?? signals!.stopped;
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => io.log(`cleanup: ${String(error)}`));
  };
  try {
    const backend = await startGrpcBackend({ host });
    cleanups.push(() => backend.close());
    // The same DemoService on connect-node over HTTP/1.1 with CORS: what the page calls
    // directly, beside the tunnel, for the latency comparison.
    const direct = await startConnectBackendHttp1({ host });
    cleanups.push(() => direct.close());
    const www = await mkdtemp(join(tmpdir(), "swtunnel-demo-"));
    cleanups.push(() => rm(www, { recursive: true, force: true }));
    const site = await listenOn(
      "demo page",
      "--port",
      options.port,
      defaultPort,
      (port) => startStaticServer({ root: www, host, port }),
      io,
    );
    cleanups.push(() => site.close());
    const descriptors = await readFile(fromRoot("demo/gen/descriptors.binpb"));
    const gateway = await listenOn(
      "gateway",
      "--gateway-port",
      options.gatewayPort,
      defaultGatewayPort,
      (port) =>
        createGateway({
          upstream: backend.url,
          upstreamProtocol: "grpc",
          // Lets the gateway turn the fetch client's default Connect JSON into gRPC.
          descriptors,
          allowOrigins: [site.origin],
          host,
          port,
          logLevel: "warn",
        }),
      io,
    );
    cleanups.push(() => gateway.close(1000));
    const precached = await buildDemoApp(www, {
      gateway: gateway.tunnelUrl,
      match: [`${site.origin}/swtunnel.demo.v1.DemoService/`],
      direct: direct.url,
    });
    io.log(`backend (grpc-js):  ${backend.url}`);
    io.log(`direct (connect):   ${direct.url}  (the page's direct calls, for comparison)`);
    io.log(`gateway:            ${gateway.tunnelUrl}`);
    io.log(`demo page:          ${site.origin}/  (worker precaches ${precached} files)`);

    if (headless) {
      const browser = await launchChromium();
      cleanups.push(() => browser.close());
      const headlessRun = runHeadless(browser, site.origin, calls, io);
      const outcome = await Promise.race([headlessRun, stop.then(() => "stopped" as const)]);
      if (outcome !== "stopped") return outcome;
      headlessRun.catch(() => {}); // it fails once Chromium is closed below
      io.log("interrupted; stopping");
      return 130;
    }

    io.log(`\nOpen ${site.origin}/ in a browser. Ctrl-C stops the demo.`);
    await stop;
    io.log("stopping");
    return 0;
  } finally {
    await cleanup();
    signals?.dispose();
  }
}

async function runHeadless(browser: Chromium, origin: string, calls: number, io: DemoIo): Promise<number> {
  const page = await browser.newPage();
  page.onConsole((type, text) => {
    if (type === "error") io.log(`page error: ${text}`);
    // The page reports progress as "demo-progress <done> <total>" (see app/main.ts).
    const progress = /^demo-progress (\d+) (\d+)$/.exec(text);
    if (progress) io.log(`  ${progress[1]} / ${progress[2]} calls`);
  });
  await page.goto(`${origin}/?headless=1`);
  await page.evaluate("window.demo.ready");
  for (const [kind, label] of [
    ["fetch", "unmodified Connect client (fetch, carried by the worker)"],
    ["sdk", "page-SDK transport (MessagePort to the worker)"],
  ] as const) {
    io.log(`${label}:`);
    const run = await page.evaluate<SequentialRun>(`window.demo.sequential(${JSON.stringify(kind)}, ${calls}, true)`);
    if (run.carried < calls) {
      throw new DemoError(`only ${run.carried} of ${calls} ${kind} calls went through the tunnel`);
    }
    io.log(`SUCCESS running ${run.calls} transactions! (average ${run.averageUs.toFixed(2)} µs per operation)`);
  }
  return 0;
}

/**
 * `stopped` resolves on the first SIGINT or SIGTERM. The listeners stay until `dispose`
 * (after the clean-up): a repeated signal (Ctrl-C reaches both `npm run` and this process)
 * must not kill the clean shutdown half-way.
 */
function listenForSignals(): { stopped: Promise<void>; dispose(): void } {
  let onSignal!: () => void;
  const stopped = new Promise<void>((resolve) => (onSignal = () => resolve()));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    stopped,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // The message says what failed; the stack is for whoever debugs the demo itself.
      const detail = error instanceof Error ? (process.env.SWTUNNEL_DEBUG ? (error.stack ?? error.message) : error.message) : String(error);
      console.error(`[demo] failed: ${detail}${process.env.SWTUNNEL_DEBUG ? "" : " (SWTUNNEL_DEBUG=1 shows the stack)"}`);
      process.exit(1);
    },
  );
}
