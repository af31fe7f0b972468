// A call made right after the browser stopped the worker succeeds without waiting for a
// watchdog (a call sent to a dead port would fail after PORT_DEAD_AFTER_MS, not succeed),
// on the fetch path and the page-SDK path; none is lost and none runs twice. The worker is
// stopped by the engine's own means (the stopWorker fixture), as in lifecycle.spec.ts.
import { expect, swt, test, openTunnelApp } from "./fixtures.js";
import { metric } from "./support/env.js";

test("a call right after the worker stopped succeeds once, on both paths", async ({ page, env, engine, stopWorker }) => {
  test.skip(engine === "webkit", "WebKitGTK has no way to stop a service worker from outside (see docs/DECISIONS.md)");
  await openTunnelApp(page, env);
  for (const round of [1, 2]) {
    for (const kind of ["connect-bin", "grpc-web", "tunnel"] as const) {
      // A call before, so the page SDK holds a port to the worker that is about to stop.
      expect((await swt(page, "unary", kind, env.site.url, { text: "warm" })).error).toBeUndefined();
      await stopWorker(page);
      const before = await metric(env.gateway, "swtunnel_streams_total");
      const id = `after-stop-${kind}-${round}-${Date.now()}`;
      const r = await swt(page, "unary", kind, env.site.url, { id, text: "after stop" });
      expect(r.error, `${kind} round ${round}`).toBeUndefined();
      expect(r.value).toMatchObject({ text: "after stop" });
      expect(env.grpc.recorder.get(id).seen).toBe(true);
      // Exactly one stream for the call: not lost, not replayed.
      expect(await metric(env.gateway, "swtunnel_streams_total")).toBe(before + 1);
    }
  }
});
