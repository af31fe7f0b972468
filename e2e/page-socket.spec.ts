// createPageSocketTransport: the page's own tunnel socket to the gateway, no Service Worker.
// All four method kinds, a backend error, an abort reaching the backend, and the gateway
// going away mid-call and coming back.
import type { CallResult, Kind } from "./app/main.js";
import { expect, swt, test, type TestPage } from "./fixtures.js";
import { metric } from "./support/env.js";

/** Opens the test app with no worker registered and points the "socket-*" kinds at `gateway`. */
async function openWithoutWorker(page: TestPage, origin: string, gateway: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => "swt" in globalThis);
  await swt(page, "usePageSocket", gateway);
  expect(await page.evaluate(() => navigator.serviceWorker.controller === null, undefined)).toBe(true);
}

function abortMidCall(page: TestPage, kind: Kind, baseUrl: string, method: "serverStream" | "bidi", id: string): Promise<CallResult> {
  return page.evaluate(
    ([k, b, m, i]) =>
      (
        globalThis as unknown as {
          swt: { abortMidCall(k: string, b: string, m: string, i: string, a: number): Promise<CallResult> };
        }
      ).swt.abortMidCall(k, b, m, i, 1_000),
    [kind, baseUrl, method, id] as const,
  );
}

test("all four method kinds over the page's own socket, in gRPC, Connect JSON and gRPC-Web", async ({ page, env }) => {
  await openWithoutWorker(page, env.site.url, env.gateway.tunnelUrl);
  const sockets = await metric(env.gateway, "swtunnel_sockets_total");
  const base = env.site.url;

  const unary = await swt(page, "unary", "socket-grpc", base, { text: "hello" }, { headers: { "x-echo-a": "1" } });
  expect(unary.error).toBeUndefined();
  expect(unary.value).toMatchObject({ text: "hello" });
  expect(unary.header["x-echo-a"]).toBe("1");
  expect(unary.trailer["x-echo-a-t"]).toBe("1");

  const stream = await swt(page, "serverStream", "socket-grpc", base, { count: 5 });
  expect(stream.error).toBeUndefined();
  expect(stream.messages!.map((m) => m.index)).toEqual([0, 1, 2, 3, 4]);

  const upload = await swt(page, "clientStream", "socket-grpc", base, 4, 1000);
  expect(upload.error).toBeUndefined();
  expect(upload.value).toMatchObject({ count: 4, totalBytes: 4000, joined: "0,1,2,3" });

  const bidi = await swt(page, "bidiPingPong", "socket-grpc", base, 3);
  expect(bidi.error).toBeUndefined();
  expect(bidi.messages!.map((m) => m.text)).toEqual(["ping 0", "ping 1", "ping 2"]);

  for (const kind of ["socket-connect-json", "socket-grpc-web"] as const) {
    const u = await swt(page, "unary", kind, base, { text: kind });
    expect(u.error, kind).toBeUndefined();
    expect(u.value).toMatchObject({ text: kind });
    const s = await swt(page, "serverStream", kind, base, { count: 3 });
    expect(s.error, kind).toBeUndefined();
    expect(s.messages!.map((m) => m.index)).toEqual([0, 1, 2]);
  }
  // One socket per transport: the three kinds are three transports.
  expect(await metric(env.gateway, "swtunnel_sockets_total")).toBe(sockets + 3);
  expect(await swt(page, "usePageSocket")).toContain("connected");
  expect(await page.evaluate(() => navigator.serviceWorker.controller === null, undefined)).toBe(true);
});

test("a backend error reaches the caller with its code, message and details", async ({ page, env }) => {
  await openWithoutWorker(page, env.site.url, env.gateway.tunnelUrl);
  for (const kind of ["socket-grpc", "socket-connect-json", "socket-grpc-web"] as const) {
    const r = await swt(page, "fail", kind, env.site.url, { code: 5, message: "no such order", detail: "order-42" });
    expect(r.error, kind).toEqual({ code: "NotFound", message: "no such order", reasons: ["order-42"] });
  }
});

test("an abort of a streaming call reaches the backend as a cancel; the next call works", async ({ page, env }) => {
  await openWithoutWorker(page, env.site.url, env.gateway.tunnelUrl);
  for (const method of ["serverStream", "bidi"] as const) {
    const id = `page-socket-abort-${method}-${Date.now()}`;
    const call = abortMidCall(page, "socket-grpc", env.site.url, method, id);
    await expect.poll(() => env.grpc.recorder.get(id).seen).toBe(true);
    expect((await call).error?.code).toBe("Canceled");
    expect(await env.grpc.recorder.waitForCancel(id, 10_000)).toBe(true);
    const next = await swt(page, "unary", "socket-grpc", env.site.url, { text: "after abort" });
    expect(next.value).toMatchObject({ text: "after abort" });
  }
});

test("the gateway going away mid-call fails the call with unavailable; after its restart a call reconnects", async ({ page, env }) => {
  let gateway = await env.startGateway();
  const port = gateway.address.port;
  try {
    await openWithoutWorker(page, env.site.url, gateway.tunnelUrl);
    expect((await swt(page, "unary", "socket-grpc", env.site.url, { text: "before" })).error).toBeUndefined();

    const stream = swt(page, "serverStream", "socket-grpc", env.site.url, { count: 1000, intervalMs: 100 });
    await expect.poll(() => metric(gateway, "swtunnel_streams_active")).toBe(1);
    await gateway.close(0);
    const r = await stream;
    expect(r.error?.code).toBe("Unavailable");
    expect(r.messages!.length).toBeLessThan(1000);

    gateway = await env.startGateway({ port });
    const after = await swt(page, "unary", "socket-grpc", env.site.url, { text: "after restart" });
    expect(after.error).toBeUndefined();
    expect(after.value).toMatchObject({ text: "after restart" });
    expect(await metric(gateway, "swtunnel_sockets_total")).toBe(1);
    expect(await swt(page, "usePageSocket")).toEqual(expect.arrayContaining(["connected", "reconnecting"]));
  } finally {
    await gateway.close(0);
  }
});
