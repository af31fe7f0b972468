/**
 * `npm run demo`: the grpc-js backend (DemoService), the gateway and the demo page's
 * server, on loopback with built-in defaults. Ctrl-C stops everything.
 *
 *   node dist/demo/run.js [--port 8080] [--gateway-port 8081]
 *   node dist/demo/run.js --headless [--calls 8192]
 *
 * --headless drives the page in headless Chromium (raw CDP, no Playwright) and makes
 * `--calls` sequential SayHello calls with the unmodified fetch client, then with the
 * page-SDK transport, printing wasmws's "SUCCESS running N transactions!" line for each.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { launchChromium } from "../tools/chromium.js";
import { fromRoot } from "../tools/paths.js";
import { startStaticServer } from "../tools/static-server.js";
import { createGateway } from "../server/index.js";
import { startGrpcBackend } from "./backend/index.js";
import { buildDemoApp } from "./build-app.js";

/** Where the demo writes its lines (stdout by default; tests collect them). */
export interface DemoIo {
  log(line: string): void;
  /** Resolves when the demo should stop (default: SIGINT or SIGTERM). */
  stopSignal?: Promise<void>;
}

const defaultIo: DemoIo = { log: (line) => process.stdout.write(`${line}\n`) };

interface SequentialRun {
  calls: number;
  averageUs: number;
  carried: number;
}

/** Runs the demo; resolves with the process exit code. */
export async function main(argv: string[], io: DemoIo = defaultIo): Promise<number> {
  const { values } = parseArgs({
    // Tolerate the "--" that separates npm's own arguments when it is passed through.
    args: argv[0] === "--" ? argv.slice(1) : argv,
    options: {
      headless: { type: "boolean", default: false },
      calls: { type: "string", default: "8192" },
      port: { type: "string" },
      "gateway-port": { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
    },
  });
  const headless = values.headless ?? false;
  const calls = Number(values.calls);
  if (!Number.isInteger(calls) || calls < 1) throw new Error(`--calls must be a positive integer, got ${values.calls}`);
  // Fixed ports by default so a browser's cached worker finds the same gateway next time;
  // free ports when headless (a fresh profile, and runs may overlap).
  const port = Number(values.port ?? (headless ? 0 : 8080));
  const gatewayPort = Number(values["gateway-port"] ?? (headless ? 0 : 8081));
  const host = values.host ?? "127.0.0.1";

  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => io.log(`cleanup: ${String(error)}`));
  };
  try {
    const backend = await startGrpcBackend({ host });
    cleanups.push(() => backend.close());
    const www = await mkdtemp(join(tmpdir(), "swtunnel-demo-"));
    cleanups.push(() => rm(www, { recursive: true, force: true }));
    const site = await startStaticServer({ root: www, host, port });
    cleanups.push(() => site.close());
    const gateway = await createGateway({
      upstream: backend.url,
      upstreamProtocol: "grpc",
      // Lets the gateway turn the fetch client's default Connect JSON into gRPC.
      descriptors: await readFile(fromRoot("demo/gen/descriptors.binpb")),
      allowOrigins: [site.origin],
      host,
      port: gatewayPort,
      logLevel: "warn",
    });
    cleanups.push(() => gateway.close(1000));
    const precached = await buildDemoApp(www, {
      gateway: gateway.tunnelUrl,
      match: [`${site.origin}/swtunnel.demo.v1.DemoService/`],
    });
    io.log(`backend (grpc-js):  ${backend.url}`);
    io.log(`gateway:            ${gateway.tunnelUrl}`);
    io.log(`demo page:          ${site.origin}/  (worker precaches ${precached} files)`);

    if (headless) return await runHeadless(site.origin, calls, io);

    io.log(`\nOpen ${site.origin}/ in a browser. Ctrl-C stops the demo.`);
    await (io.stopSignal ?? waitForSignal());
    io.log("stopping");
    return 0;
  } finally {
    await cleanup();
  }
}

async function runHeadless(origin: string, calls: number, io: DemoIo): Promise<number> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.onConsole((type, text) => {
      if (type === "error") io.log(`page error: ${text}`);
    });
    await page.goto(`${origin}/?headless=1`);
    await page.evaluate("window.demo.ready");
    for (const [kind, label] of [
      ["fetch", "unmodified Connect client (fetch, carried by the worker)"],
      ["sdk", "page-SDK transport (MessagePort to the worker)"],
    ] as const) {
      const run = await page.evaluate<SequentialRun>(`window.demo.sequential(${JSON.stringify(kind)}, ${calls})`);
      if (run.carried < calls) {
        throw new Error(`only ${run.carried} of ${calls} ${kind} calls went through the tunnel`);
      }
      io.log(`${label}:`);
      io.log(`SUCCESS running ${run.calls} transactions! (average ${run.averageUs.toFixed(2)} µs per operation)`);
    }
    return 0;
  } finally {
    await browser.close();
  }
}

/**
 * Resolves on the first SIGINT or SIGTERM. The listeners stay: a repeated signal (Ctrl-C
 * reaches both `npm run` and this process) must not kill the clean shutdown half-way.
 */
function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.on("SIGINT", () => resolve());
    process.on("SIGTERM", () => resolve());
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`[demo] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
