// In-process mode in a real browser: the test app's own server (the one serving the page,
// the bundle and sw.js) gets the tunnel endpoint attached, and calls from unmodified
// connect-web clients and the page-SDK transport run the connect-node TestService in that
// server's process, through the worker and the tunnel. No gateway, no HTTP/2 hop.
import { Recorder, connectRoutes } from "../demo/backend/index.js";
import { createTunnelEndpoint, type TunnelEndpoint } from "../server/index.js";
import { expect, openApp, swt, test } from "./fixtures.js";
import { SERVICE_PATH } from "./support/env.js";

let endpoint: TunnelEndpoint;
const recorder = new Recorder();

async function streams(): Promise<number> {
  const v = await endpoint.metrics.getSingleMetric("swtunnel_streams_total")!.get();
  return v.values.reduce((a, x) => a + x.value, 0);
}

test.beforeEach(async ({ page, env }) => {
  endpoint = createTunnelEndpoint({ routes: connectRoutes(recorder), logLevel: "silent" });
  endpoint.attach(env.site.server);
  await openApp(page, env.site.url, {
    scriptUrl: "/sw.js",
    gateway: `${env.site.url.replace(/^http/, "ws")}${endpoint.path}`,
    match: [env.site.url + SERVICE_PATH],
    fallback: "error",
  });
});

test.afterEach(async () => {
  await endpoint.close(0);
});

for (const kind of ["connect-bin", "grpc-web", "tunnel"] as const) {
  test(`${kind}: unary, an error with details and server streaming run in the app's process`, async ({ page, env }) => {
    const before = await streams();
    const r = await swt(page, "unary", kind, env.site.url, { text: "in process", responseSize: 1000 });
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ text: "in process", payload: 1000 });
    const f = await swt(page, "fail", kind, env.site.url, { code: 5, message: "not here", detail: "d" });
    expect(f.error).toEqual({ code: "NotFound", message: "not here", reasons: ["d"] });
    const s = await swt(page, "serverStream", kind, env.site.url, { count: 3, size: 10 });
    expect(s.messages!.map((m) => m.index)).toEqual([0, 1, 2]);
    expect(await streams()).toBe(before + 3);
  });
}

test("an abort in the page aborts the handler's signal in the app", async ({ page, env }) => {
  const id = `abort-${Date.now()}`;
  const r = await swt(page, "serverStream", "connect-bin", env.site.url, { id, count: 100, intervalMs: 100 }, { abortAfter: 2 });
  expect(r.error?.code).toBe("Canceled");
  await expect.poll(() => recorder.get(id).cancelled, { timeout: 10_000 }).toBe(true);
});

test("the app's ordinary routes still answer beside the tunnel", async ({ page, env }) => {
  expect(await swt(page, "unary", "tunnel", env.site.url, { text: "x" })).toMatchObject({ value: { text: "x" } });
  const status = await page.evaluate(async (url) => (await fetch(`${url}/index.html`, { cache: "no-store" })).status, env.site.url);
  expect(status).toBe(200);
});
