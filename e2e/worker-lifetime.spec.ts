// A 75 s server stream (75 messages 1 s apart) completes, on the fetch path (unmodified
// connect-web) and on the page-SDK path, in a visible and in a hidden tab. Firefox stops
// a worker ~30 s after the last page event even mid-stream (60 s under waitUntil): the
// page SDK's keepAlive (on by default) answers the worker's heartbeat while calls run, on
// both paths. Never a silent clean end: every message arrives, or the call fails.
//
// The four streams run at once (one test of 75 s per engine): a first tab and a second
// opened over it (which hides the first where the engine does) each run both paths.
// Tagged @long: `SWTUNNEL_LONG_TESTS=0` leaves it out (CI's repeat runs on other Node
// versions, where only the Node side changes).
import { expect, openApp, swt, test, type TestPage, tunnelOptions } from "./fixtures.js";
import { openTabOver, TAB_OVER_HIDES, visibility } from "./support/hide-page.js";

const COUNT = 75;
const INTERVAL_MS = 1_000;

test(`@long a ${COUNT} s server stream completes on both paths in a hidden and in a visible tab`, async ({ page, env, engine }) => {
  test.setTimeout(150_000);
  const options = tunnelOptions(env, { scriptUrl: "/sw.js" });
  await openApp(page, env.site.url, options);
  const over = await openTabOver(page);
  await openApp(over, env.site.url, options);
  // Firefox hides the first tab under the second; headless Chromium keeps both visible;
  // WebKitGTK's WebDriver windows are one visible, one not, depending on focus.
  if (TAB_OVER_HIDES[engine]) await expect.poll(() => visibility(page)).toBe("hidden");
  const seen = [await visibility(page), await visibility(over)];
  expect(seen).toContain("visible");

  const stream = async (tab: TestPage, kind: "connect-bin" | "tunnel", where: string) => {
    const id = `lifetime-${kind}-${where}-${Date.now()}`;
    const r = await swt(tab, "serverStream", kind, env.site.url, { id, count: COUNT, intervalMs: INTERVAL_MS });
    return { where: `${kind} in the ${where} tab`, id, r };
  };
  const results = await Promise.all([
    stream(page, "connect-bin", `first (${seen[0]})`),
    stream(page, "tunnel", `first (${seen[0]})`),
    stream(over, "connect-bin", `second (${seen[1]})`),
    stream(over, "tunnel", `second (${seen[1]})`),
  ]);
  for (const { where, id, r } of results) {
    expect(r.error, where).toBeUndefined();
    expect(
      r.messages!.map((m) => m.index),
      where,
    ).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(env.grpc.recorder.get(id), where).toMatchObject({ cancelled: false, messagesSent: COUNT });
  }
  // The same at the end: a hidden tab's streams really ran hidden.
  expect([await visibility(page), await visibility(over)]).toEqual(seen);
});
