// A 75 s server stream (75 messages 1 s apart) completes, on the fetch path (unmodified
// connect-web) and on the page-SDK path, in a visible and in a hidden tab. Firefox stops
// a worker ~30 s after the last page event even mid-stream (60 s under waitUntil): the
// page SDK's keepAlive (on by default) answers the worker's heartbeat while calls run, on
// both paths. Never a silent clean end: every message arrives, or the call fails.
//
// The four streams run at once (one test of 75 s per engine): the first tab, hidden by a
// second tab opened over it, runs both paths; the second, visible, runs both paths too.
// Tagged @long: `SWTUNNEL_LONG_TESTS=0` leaves it out (CI's repeat runs on other Node
// versions, where only the Node side changes).
import { expect, openApp, swt, test, type TestPage } from "./fixtures.js";
import { SERVICE_PATH } from "./support/env.js";
import { openTabOver, TAB_OVER_HIDES, visibility } from "./support/hide-page.js";

const COUNT = 75;
const INTERVAL_MS = 1_000;

test(`@long a ${COUNT} s server stream completes on both paths in a hidden and in a visible tab`, async ({ page, env, engine }) => {
  test.setTimeout(150_000);
  const options = { scriptUrl: "/sw.js", gateway: env.gateway.tunnelUrl, match: [env.site.url + SERVICE_PATH], fallback: "error" as const };
  await openApp(page, env.site.url, options);
  const over = await openTabOver(page);
  await openApp(over, env.site.url, options);
  const hides = TAB_OVER_HIDES[engine] ?? false;
  await expect.poll(() => visibility(page)).toBe(hides ? "hidden" : "visible");
  expect(await visibility(over)).toBe("visible");

  const stream = async (tab: TestPage, kind: "connect-bin" | "tunnel", where: string) => {
    const id = `lifetime-${kind}-${where}-${Date.now()}`;
    const r = await swt(tab, "serverStream", kind, env.site.url, { id, count: COUNT, intervalMs: INTERVAL_MS });
    return { where: `${kind} in the ${where} tab`, id, r };
  };
  const results = await Promise.all([
    stream(page, "connect-bin", hides ? "hidden" : "first"),
    stream(page, "tunnel", hides ? "hidden" : "first"),
    stream(over, "connect-bin", "visible"),
    stream(over, "tunnel", "visible"),
  ]);
  for (const { where, id, r } of results) {
    expect(r.error, where).toBeUndefined();
    expect(
      r.messages!.map((m) => m.index),
      where,
    ).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(env.grpc.recorder.get(id), where).toMatchObject({ cancelled: false, messagesSent: COUNT });
  }
  // Still hidden at the end: the hidden tab's streams really ran hidden.
  if (hides) expect(await visibility(page)).toBe("hidden");
});
