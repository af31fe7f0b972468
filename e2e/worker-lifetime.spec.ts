// A 75 s server stream (75 messages 1 s apart) completes, on the fetch path (unmodified
// connect-web) and on the page-SDK path, in a visible and in a hidden tab. Firefox stops
// a worker ~30 s after the last page event even mid-stream (60 s under waitUntil): the
// page SDK's keepAlive (on by default) answers the worker's heartbeat while calls run, on
// both paths. Never a silent clean end: every message arrives, or the call fails.
import { expect, openApp, swt, test } from "./fixtures.js";
import { SERVICE_PATH } from "./support/env.js";
import { openTabOver, TAB_OVER_HIDES, visibility } from "./support/hide-page.js";

const COUNT = 75;
const INTERVAL_MS = 1_000;

for (const [path, kind] of [
  ["fetch path", "connect-bin"],
  ["page-SDK path", "tunnel"],
] as const) {
  for (const hidden of [false, true]) {
    test(`${path}: a ${COUNT} s server stream completes in a ${hidden ? "hidden" : "visible"} tab`, async ({ page, env, browserName }) => {
      test.setTimeout(150_000);
      await openApp(page, env.site.url, {
        scriptUrl: "/sw.js",
        gateway: env.gateway.tunnelUrl,
        match: [env.site.url + SERVICE_PATH],
        fallback: "error",
      });
      if (hidden) {
        const tab = await openTabOver(page);
        await expect.poll(() => visibility(page)).toBe(TAB_OVER_HIDES[browserName] ? "hidden" : "visible");
        await expect.poll(() => visibility(tab)).toBe("visible");
      } else {
        expect(await visibility(page)).toBe("visible");
      }
      const id = `lifetime-${kind}-${hidden ? "hidden" : "visible"}-${Date.now()}`;
      const r = await swt(page, "serverStream", kind, env.site.url, { id, count: COUNT, intervalMs: INTERVAL_MS });
      expect(r.error).toBeUndefined();
      expect(r.messages!.map((m) => m.index)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
      expect(env.grpc.recorder.get(id)).toMatchObject({ cancelled: false, messagesSent: COUNT });
      if (hidden && TAB_OVER_HIDES[browserName]) expect(await visibility(page)).toBe("hidden");
    });
  }
}
