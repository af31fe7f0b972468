// The worker's life: first visit, several tabs, the browser stopping the worker, and the
// gateway being replaced while the page keeps calling.
import { expect, openApp, swt, test, openTunnelApp, tunnelOptions } from "./fixtures.js";
import { metric } from "./support/env.js";
import { startTcpProxy } from "./support/tcp-proxy.js";

test("first visit: calls right after registerTunnel() go through the tunnel", async ({ page, env }) => {
  const before = await metric(env.gateway, "swtunnel_streams_total");
  await openTunnelApp(page, env);
  for (let i = 0; i < 3; i++) {
    const r = await swt(page, "unary", "connect-bin", env.site.url, { text: `first ${i}` });
    expect(r.error).toBeUndefined();
  }
  expect(await metric(env.gateway, "swtunnel_streams_total")).toBe(before + 3);
  const stats = await swt(page, "stats");
  expect(stats?.counters.carried).toBe(3);
  expect(stats?.status).toBe("connected");
});

test("two tabs share one WebSocket to the gateway", async ({ context, env }) => {
  const opts = tunnelOptions(env);
  const socketsBefore = await metric(env.gateway, "swtunnel_sockets_total");
  const streamsBefore = await metric(env.gateway, "swtunnel_streams_total");
  const a = await context.newPage();
  await openApp(a, env.site.url, opts);
  const b = await context.newPage();
  await openApp(b, env.site.url, opts);
  const results = await Promise.all([
    swt(a, "unary", "connect-bin", env.site.url, { text: "tab a" }),
    swt(b, "unary", "grpc-web", env.site.url, { text: "tab b" }),
    swt(a, "serverStream", "connect-json", env.site.url, { count: 3 }),
    swt(b, "serverStream", "connect-bin", env.site.url, { count: 3 }),
  ]);
  for (const r of results) expect(r.error).toBeUndefined();
  expect(await metric(env.gateway, "swtunnel_streams_total")).toBe(streamsBefore + 4);
  expect(await metric(env.gateway, "swtunnel_sockets_total")).toBe(socketsBefore + 1);
});

// On the page's fetch fast path (the default) and on the worker's fetch event.
for (const interceptFetch of [true, false]) {
  const path = interceptFetch ? "fetch fast path" : "worker fetch event";
  test(`${path}: the browser stopping the worker: a stream in flight ends with an error at once; later calls work`, async ({
    page,
    env,
    engine,
    stopWorker,
  }) => {
    test.skip(engine === "webkit", "WebKitGTK has no way to stop a service worker from outside (see docs/DECISIONS.md)");
    await openTunnelApp(page, env, { interceptFetch });
    expect((await swt(page, "unary", "connect-bin", env.site.url, { text: "before" })).error).toBeUndefined();

    // Stopped between calls.
    await stopWorker(page);
    expect((await swt(page, "unary", "connect-bin", env.site.url, { text: "after stop" })).error).toBeUndefined();

    // Stopped during a stream: the stream fails with an error instead of hanging.
    const stream = swt(page, "serverStream", "connect-bin", env.site.url, { count: 50, intervalMs: 200 });
    await expect.poll(() => metric(env.gateway, "swtunnel_streams_active")).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    await stopWorker(page);
    const r = await stream;
    expect(r.ok).toBe(false);
    expect(r.messages!.length).toBeGreaterThan(0);
    expect(r.messages!.length).toBeLessThan(50);
    expect(r.error?.code).toBeTruthy();
    // On the port, the worker's Web Lock going says it was stopped (not 10 s of silence).
    if (interceptFetch) expect(r.error?.message).toContain("service worker was stopped");

    for (const kind of ["connect-bin", "grpc-web", "tunnel"] as const) {
      expect((await swt(page, "unary", kind, env.site.url, { text: "again" })).error, kind).toBeUndefined();
    }
  });

  test(`${path}: gateway drained and replaced behind a load balancer during a loop of calls: no call fails`, async ({ page, env }) => {
    const g1 = await env.startGateway();
    const lb = await startTcpProxy(g1.address.port);
    const g2 = await env.startGateway();
    try {
      const gateway = `ws://127.0.0.1:${lb.port}/tunnel`;
      await openTunnelApp(page, env, { gateway, interceptFetch });
      const loop = swt(page, "loop", "connect-bin", env.site.url, 3000, 5);
      await expect.poll(() => metric(g1, "swtunnel_streams_total")).toBeGreaterThan(5);
      // Rolling replacement: new connections go to g2, then g1 drains (GOAWAY) and exits.
      lb.setTarget(g2.address.port);
      await g1.close(5000);
      const r = await loop;
      expect(r.errors).toEqual([]);
      expect(r.ok).toBeGreaterThan(10);
      expect(await metric(g2, "swtunnel_streams_total")).toBeGreaterThan(0);
    } finally {
      await g1.close(0);
      await g2.close(0);
      await lb.close();
    }
  });
}
