// The page's fetch fast path (page-sdk/fetch.ts, on by default): the worker answers the
// page's own fetch calls over its MessagePort with the Responses its fetch event would
// give; what it does not carry goes to the browser's fetch untouched. Unary, streaming,
// errors, metadata, deadline and abort run on both paths in connect-web.spec.ts, the
// stopped worker and the gateway drain in lifecycle.spec.ts, the gateway down in
// fallback.spec.ts (fallback "network" and "error").
import type { RawFetch, RawResult } from "./app/main.js";
import { expect, openApp, swt, test, openTunnelApp, tunnelOptions } from "./fixtures.js";
import { SERVICE_PATH } from "./support/env.js";
import { closedPort } from "./support/tcp-proxy.js";

/** A Connect streaming request body: one uncompressed JSON envelope. */
function envelope(json: string): string {
  const n = new TextEncoder().encode(json).byteLength;
  return String.fromCharCode(0, 0, 0, n >> 8, n & 0xff) + json;
}

/** A Response without what differs from one call to the next: the date, a retry delay in a message. */
function stable(r: RawResult): RawResult {
  const { date: _date, ...headers } = r.headers ?? {};
  const text = Buffer.from(r.body ?? "", "hex").toString("latin1");
  // The backoff delay in the message varies between two calls, and with its digit count
  // the length prefix of an enveloped (streaming) body: compare both without them.
  const body = text.replace(/next attempt in \d+ ms/g, "next attempt in N ms");
  const enveloped = /\+json|\+proto|grpc-web/.test(headers["content-type"] ?? "");
  return { ...r, headers, body: enveloped && body.length >= 5 ? `${body[0]}<len>${body.slice(5)}` : body };
}

const calls: Array<[string, string, RawFetch]> = [
  [
    "Connect unary",
    "Unary",
    { method: "POST", headers: { "content-type": "application/json", "x-echo-a": "alpha" }, body: '{"text":"same"}' },
  ],
  [
    "Connect unary error with details",
    "Fail",
    { method: "POST", headers: { "content-type": "application/json" }, body: '{"code":5,"message":"gone","detail":"why"}' },
  ],
  [
    "Connect server streaming",
    "ServerStream",
    { method: "POST", headers: { "content-type": "application/connect+json" }, body: envelope('{"count":3,"size":10}') },
  ],
  ["an unknown method", "Nope", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
];

test("the fast path answers with the Response of the worker's fetch event", async ({ page, env }) => {
  await openTunnelApp(page, env);
  expect(await swt(page, "fetchPatched")).toBe(true);
  for (const [what, method, init] of calls) {
    const url = env.site.url + SERVICE_PATH + method;
    const before = (await swt(page, "stats"))!.counters;
    const fast = await swt(page, "rawFetch", url, init, "page");
    const viaWorker = await swt(page, "rawFetch", url, init, "original");
    const after = (await swt(page, "stats"))!.counters;
    expect(fast.error, what).toBeUndefined();
    expect(stable(fast), what).toEqual(stable(viaWorker));
    // One call over the port, one in a fetch event, both through the tunnel.
    expect(after.portCalls - before.portCalls, what).toBe(1);
    expect(after.carried - before.carried, what).toBe(2);
  }
});

test("gateway down + fallback 'error': the same unavailable Response on both paths", async ({ page, env }) => {
  const gateway = `ws://127.0.0.1:${await closedPort()}/tunnel`;
  await openTunnelApp(page, env, { gateway });
  for (const [what, method, init] of calls.slice(0, 3)) {
    const url = env.site.url + SERVICE_PATH + method;
    const fast = await swt(page, "rawFetch", url, init, "page");
    expect(fast.status, what).toBe(what.includes("streaming") ? 200 : 503);
    expect(stable(fast), what).toEqual(stable(await swt(page, "rawFetch", url, init, "original")));
  }
});

test("a fetch the worker does not carry reaches the network untouched", async ({ page, env }) => {
  await openTunnelApp(page, env);
  const seen = env.site.requests.length;
  const page1 = await swt(page, "rawFetch", `${env.site.url}/index.html`, {}, "page");
  expect(page1.status).toBe(200);
  // The same answer (its Date header aside: the two fetches may straddle a second).
  expect(stable(page1)).toEqual(stable(await swt(page, "rawFetch", `${env.site.url}/index.html`, {}, "original")));
  const post = await swt(page, "rawFetch", `${env.site.url}/elsewhere`, { method: "POST", body: "x" }, "page");
  expect(post.status).toBe(405);
  expect(stable(post)).toEqual(stable(await swt(page, "rawFetch", `${env.site.url}/elsewhere`, { method: "POST", body: "x" }, "original")));
  expect(env.site.requests.slice(seen)).toEqual([
    { method: "GET", path: "/index.html" },
    { method: "GET", path: "/index.html" },
    { method: "POST", path: "/elsewhere" },
    { method: "POST", path: "/elsewhere" },
  ]);
  expect((await swt(page, "stats"))!.counters.carried).toBe(0);
});

test("a Request as fetch's only argument: carried the same, and sent on with its body when not carried", async ({ page, env }) => {
  await openTunnelApp(page, env);
  const init: RawFetch = { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"req"}', asRequest: true };
  const carried = await swt(page, "rawFetch", `${env.site.url}${SERVICE_PATH}Unary`, init, "page");
  expect(stable(carried)).toEqual(stable(await swt(page, "rawFetch", `${env.site.url}${SERVICE_PATH}Unary`, init, "original")));
  // Not a route: the Connect backend itself answers, so the body reached it intact.
  const direct = await swt(page, "rawFetch", `${env.connect.url}${SERVICE_PATH}Unary`, init, "page");
  expect(direct.status).toBe(200);
  expect(JSON.parse(Buffer.from(direct.body!, "hex").toString())).toMatchObject({ text: "req" });
});

test("a streamed request body is left to the browser's fetch", async ({ page, env }) => {
  await openTunnelApp(page, env);
  const before = (await swt(page, "stats"))!.counters.portCalls;
  for (const url of [`${env.site.url}/elsewhere`, `${env.site.url}${SERVICE_PATH}Unary`]) {
    const init: RawFetch = { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"s"}', stream: true };
    const fast = await swt(page, "rawFetch", url, init, "page");
    expect(stable(fast), url).toEqual(stable(await swt(page, "rawFetch", url, init, "original")));
  }
  expect((await swt(page, "stats"))!.counters.portCalls).toBe(before);
});

test("a page no worker controls: tunnelFetch sends the calls to the network", async ({ page, env }) => {
  await page.goto(`${env.site.url}/`);
  await page.waitForFunction(() => "swt" in globalThis);
  expect(await page.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
  for (const kind of ["connect-fetch", "connect-bin"] as const) {
    const id = `uncontrolled-${kind}`;
    const r = await swt(page, "unary", kind, env.connect.url, { id, text: "direct" });
    expect(r.error, kind).toBeUndefined();
    expect(r.value).toMatchObject({ text: "direct" });
    expect(env.connect.recorder.get(id).seen).toBe(true);
  }
});

test("interceptFetch: false puts the browser's fetch back; the worker's fetch event carries the calls", async ({ page, env }) => {
  const options = tunnelOptions(env);
  await openApp(page, env.site.url, options);
  expect(await swt(page, "fetchPatched")).toBe(true);
  await openApp(page, env.site.url, { ...options, interceptFetch: false });
  expect(await swt(page, "fetchPatched")).toBe(false);
  const before = (await swt(page, "stats"))!.counters;
  const r = await swt(page, "unary", "connect-bin", env.site.url, { text: "worker" });
  expect(r.error).toBeUndefined();
  const after = (await swt(page, "stats"))!.counters;
  expect(after.carried - before.carried).toBe(1);
  expect(after.portCalls).toBe(before.portCalls);
  // tunnelFetch still works when passed to a transport.
  expect((await swt(page, "unary", "connect-fetch", env.site.url, { text: "fast" })).error).toBeUndefined();
  expect((await swt(page, "stats"))!.counters.portCalls).toBe(before.portCalls + 1);
});
