// Routes match whole path segments, and only RPCs are carried: a navigation, an <img> and
// a plain GET under a matching prefix go to the network as if there were no worker.
import { expect, openApp, swt, test } from "./fixtures.js";
import { metric } from "./support/env.js";

/** A Connect-looking POST from the page; returns the HTTP status it got. */
function post(page: import("@playwright/test").Page, url: string): Promise<number> {
  return page.evaluate(
    (u) => fetch(u, { method: "POST", headers: { "content-type": "application/proto" }, body: new Uint8Array(0) }).then((r) => r.status),
    url,
  );
}

test("a route /api carries /api/... RPCs, but not /apiary, navigations, images or plain GETs", async ({ page, env }) => {
  await openApp(page, env.site.url, { gateway: env.gateway.tunnelUrl, match: [`${env.site.url}/api`], fallback: "error" });
  const sawAtSite = (path: string) => env.site.requests.some((r) => r.path === path);
  const streams = await metric(env.gateway, "swtunnel_streams_total");

  // Carried: the gateway takes it (the backend has no such service), the site never sees it.
  await post(page, `${env.site.url}/api/swtunnel.test.v1.Nope/Call`);
  expect(await metric(env.gateway, "swtunnel_streams_total")).toBe(streams + 1);
  expect(sawAtSite("/api/swtunnel.test.v1.Nope/Call")).toBe(false);

  // Same prefix, not the same segment: the network (the static site answers a POST with 405).
  expect(await post(page, `${env.site.url}/apiary/swtunnel.test.v1.Nope/Call`)).toBe(405);
  expect(sawAtSite("/apiary/swtunnel.test.v1.Nope/Call")).toBe(true);

  // A plain GET and an image under the route: not RPCs, so the network.
  expect(await page.evaluate((u) => fetch(u).then((r) => r.status), `${env.site.url}/api/data.json`)).toBe(404);
  expect(sawAtSite("/api/data.json")).toBe(true);
  await page.evaluate(
    (u) =>
      new Promise<void>((resolve) => {
        const img = new Image();
        img.onload = img.onerror = () => resolve();
        img.src = u;
      }),
    `${env.site.url}/api/logo.png`,
  );
  expect(sawAtSite("/api/logo.png")).toBe(true);
  expect(await metric(env.gateway, "swtunnel_streams_total")).toBe(streams + 1);
  const stats = await swt(page, "stats");
  expect(stats?.counters.carried).toBe(1);

  // A navigation to a path under the route is the site's.
  await page.goto(`${env.site.url}/api/page`);
  expect(sawAtSite("/api/page")).toBe(true);
  expect(await metric(env.gateway, "swtunnel_streams_total")).toBe(streams + 1);
});
