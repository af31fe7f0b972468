// The gateway down (fallback "network" and "error"), a cross-origin base URL, and the
// page SDK's MessagePort transport.
import { expect, openApp, swt, test, openTunnelApp } from "./fixtures.js";
import { metric, SERVICE_PATH } from "./support/env.js";
import { closedPort } from "./support/tcp-proxy.js";

test("gateway down + fallback 'network': calls reach the Connect backend directly", async ({ page, env }) => {
  const gateway = `ws://127.0.0.1:${await closedPort()}/tunnel`;
  await openApp(page, env.site.url, { gateway, match: [`${env.connect.url}/`], fallback: "network" });
  for (const kind of ["connect-bin", "grpc-web"] as const) {
    const id = `fallback-network-${kind}`;
    const r = await swt(page, "unary", kind, env.connect.url, { id, text: "direct" });
    expect(r.error, kind).toBeUndefined();
    expect(r.value).toMatchObject({ text: "direct" });
    expect(env.connect.recorder.get(id).seen).toBe(true);
  }
  const stats = await swt(page, "stats");
  expect(stats?.counters.fallbacks).toBe(2);
  expect(stats?.status).toBe("fallback");
});

test("gateway down + fallback 'error': unavailable at once, saying the gateway could not be reached", async ({ page, env }) => {
  const gateway = `ws://127.0.0.1:${await closedPort()}/tunnel`;
  await openApp(page, env.site.url, { gateway, match: [`${env.connect.url}/`], fallback: "error" });
  for (const kind of ["connect-bin", "connect-json", "grpc-web"] as const) {
    const id = `fallback-error-${kind}`;
    const r = await swt(page, "unary", kind, env.connect.url, { id, text: "x" });
    expect(r.error?.code, kind).toBe("Unavailable");
    expect(r.error?.message).toContain("could not be reached");
    expect(env.connect.recorder.get(id).seen).toBe(false);
  }
  const s = await swt(page, "serverStream", "connect-bin", env.connect.url, { count: 2 });
  expect(s.error?.code).toBe("Unavailable");
});

test("a cross-origin base URL works through the worker and no OPTIONS request reaches a server", async ({ page, env }) => {
  await openApp(page, env.site.url, { gateway: env.gateway.tunnelUrl, match: [env.site.altUrl + SERVICE_PATH], fallback: "error" });
  const before = await metric(env.gateway, "swtunnel_streams_total");
  const seen = env.site.requests.length;
  for (const kind of ["connect-bin", "connect-json", "grpc-web"] as const) {
    const r = await swt(page, "unary", kind, env.site.altUrl, { text: kind }, { headers: { "x-echo-c": "cross" } });
    expect(r.error, kind).toBeUndefined();
    // Exposed by the worker's Access-Control-Expose-Headers.
    expect(r.header["x-echo-c"]).toBe("cross");
    expect(r.trailer["x-echo-c-t"]).toBe("cross");
  }
  const f = await swt(page, "fail", "grpc-web", env.site.altUrl, { code: 5, message: "nope", detail: "d" });
  expect(f.error).toEqual({ code: "NotFound", message: "nope", reasons: ["d"] });
  expect(await metric(env.gateway, "swtunnel_streams_total")).toBe(before + 4);
  // Nothing of these calls reached the site's server (the other origin), preflights included.
  expect(env.site.requests.slice(seen)).toEqual([]);
  expect(env.site.counts.get("OPTIONS") ?? 0).toBe(0);
});

// The page SDK's transport speaks Connect by default; gRPC is an option.
for (const [kind, protocol] of [
  ["tunnel", "Connect"],
  ["tunnel-grpc", "gRPC"],
] as const) {
  test.describe(`page SDK transport (${protocol} over a MessagePort, no fetch)`, () => {
    test.beforeEach(async ({ page, env }) => {
      await openTunnelApp(page, env);
    });

    test("unary and server streaming", async ({ page, env }) => {
      const u = await swt(page, "unary", kind, env.site.url, { text: "sdk" }, { headers: { "x-echo-p": "1" } });
      expect(u.error).toBeUndefined();
      expect(u.value).toMatchObject({ text: "sdk" });
      expect(u.header["x-echo-p"]).toBe("1");
      expect(u.trailer["x-echo-p-t"]).toBe("1");
      const s = await swt(page, "serverStream", kind, env.site.url, { count: 5, intervalMs: 200 });
      expect(s.messages!.map((m) => m.index)).toEqual([0, 1, 2, 3, 4]);
      expect(s.messages![4]!.t - s.messages![0]!.t).toBeGreaterThan(400);
      const f = await swt(page, "fail", kind, env.site.url, { code: 7, message: "denied", detail: "why" });
      expect(f.error).toEqual({ code: "PermissionDenied", message: "denied", reasons: ["why"] });
    });

    test("client streaming of 1,000 messages", async ({ page, env }) => {
      const r = await swt(page, "clientStream", kind, env.site.url, 1000, 512);
      expect(r.error).toBeUndefined();
      expect(r.value).toMatchObject({ count: 1000, totalBytes: 512_000 });
    });

    test("bidi ping-pong", async ({ page, env }) => {
      const r = await swt(page, "bidiPingPong", kind, env.site.url, 10);
      expect(r.error).toBeUndefined();
      expect(r.messages!.map((m) => m.text)).toEqual([...Array(10).keys()].map((i) => `ping ${i}`));
    });

    test("deadline and abort reach the backend", async ({ page, env }) => {
      const d = await swt(page, "unary", kind, env.site.url, { id: `sdk-deadline-${kind}`, delayMs: 3000 }, { timeoutMs: 300 });
      expect(d.error?.code).toBe("DeadlineExceeded");
      const id = `sdk-abort-${kind}-${Date.now()}`;
      const a = await swt(page, "serverStream", kind, env.site.url, { id, count: 100, intervalMs: 100 }, { abortAfter: 2 });
      expect(a.error?.code).toBe("Canceled");
      await expect.poll(() => env.grpc.recorder.get(id).cancelled).toBe(true);
    });
  });
}
