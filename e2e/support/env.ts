/**
 * The servers every e2e test uses, started once per Playwright worker on free loopback
 * ports: a grpc-js backend (the gateway's upstream), a Connect backend on HTTP/1.1 with
 * CORS (direct calls and fallback "network"), the gateway, and the test app's static
 * server (the page bundle and the real dist sw.js built with scripts/build-browser.mjs).
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { startConnectBackendHttp1, startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../server/index.js";
import { startStaticServer, type StaticServer } from "../../tools/static-server.js";

export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const descriptors = readFileSync(join(root, "demo/gen/descriptors.binpb"));
/** Path prefix of TestService calls. */
export const SERVICE_PATH = "/swtunnel.test.v1.TestService/";

export interface Env {
  grpc: Backend;
  connect: Backend;
  gateway: Gateway;
  site: StaticServer;
  /** Starts another gateway to the same backend (closed by the caller). */
  startGateway(extra?: Partial<GatewayOptions>): Promise<Gateway>;
  close(): Promise<void>;
}

async function bundles(): Promise<Record<string, { type: string; body: string | Uint8Array }>> {
  const dir = await mkdtemp(join(tmpdir(), "swtunnel-e2e-"));
  try {
    const { buildBrowser } = (await import(pathToFileURL(join(root, "scripts/build-browser.mjs")).href)) as {
      buildBrowser(o: { outdir: string; minify?: boolean; sourcemap?: boolean }): Promise<void>;
    };
    await buildBrowser({ outdir: dir, minify: false, sourcemap: false });
    await build({
      entryPoints: [join(root, "e2e/app/main.ts")],
      bundle: true,
      format: "esm",
      target: "es2022",
      outfile: join(dir, "app.js"),
      logLevel: "warning",
    });
    const js = "text/javascript";
    return {
      "/index.html": { type: "text/html; charset=utf-8", body: await readFile(join(root, "e2e/app/index.html")) },
      "/app.js": { type: js, body: await readFile(join(dir, "app.js")) },
      "/sw.js": { type: js, body: await readFile(join(dir, "sw.js")) },
      "/page-sdk.js": { type: js, body: await readFile(join(dir, "page-sdk.js")) },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startEnv(): Promise<Env> {
  const files = await bundles();
  const grpc = await startGrpcBackend();
  const connect = await startConnectBackendHttp1();
  const site = await startStaticServer({ files });
  const startGateway = (extra: Partial<GatewayOptions> = {}) =>
    createGateway({
      upstream: grpc.url,
      upstreamProtocol: "grpc",
      descriptors,
      port: 0,
      allowOrigins: [site.url, site.altUrl],
      logLevel: "silent",
      ...extra,
    });
  const gateway = await startGateway();
  return {
    grpc,
    connect,
    gateway,
    site,
    startGateway,
    async close() {
      await gateway.close(0);
      await Promise.all([grpc.close(), connect.close(), site.close()]);
    },
  };
}

/** A counter of the gateway's Prometheus registry. */
export async function metric(gateway: Gateway, name: string): Promise<number> {
  const m = gateway.metrics.getSingleMetric(name);
  if (!m) throw new Error(`gateway has no metric ${name}`);
  const v = await m.get();
  return v.values.reduce((a, x) => a + x.value, 0);
}
