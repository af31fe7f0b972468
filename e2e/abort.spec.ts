// A page's abort of any call reaches the backend as a cancel, on the fetch path
// (unmodified connect-web) and on the page-SDK path (MessagePort), and the next call works.
import type { CallResult, Kind } from "./app/main.js";
import { expect, swt, test, type TestPage, openTunnelApp } from "./fixtures.js";

type Method = "unary" | "serverStream" | "clientStream" | "bidi";

function abortMidCall(page: TestPage, kind: Kind, baseUrl: string, method: Method, id: string, afterMs: number): Promise<CallResult> {
  return page.evaluate(
    ([k, b, m, i, a]) =>
      (
        globalThis as unknown as {
          swt: { abortMidCall(k: string, b: string, m: string, i: string, a: number): Promise<CallResult> };
        }
      ).swt.abortMidCall(k, b, m, i, a),
    [kind, baseUrl, method, id, afterMs] as const,
  );
}

// connect-web cannot stream requests over fetch: client and bidi streams exist on the page-SDK path only.
// On the page's fetch fast path (the default) connect-web's abort cancels the port call, so
// a Connect unary abort reaches the backend at once like every other kind.
const cases: Array<[Kind, Method]> = [
  ["connect-bin", "unary"],
  ["connect-json", "unary"],
  ["connect-bin", "serverStream"],
  ["connect-json", "serverStream"],
  ["grpc-web", "unary"],
  ["grpc-web", "serverStream"],
  ["tunnel", "unary"],
  ["tunnel", "serverStream"],
  ["tunnel", "clientStream"],
  ["tunnel", "bidi"],
];
// On the worker's fetch event (interceptFetch: false, or code that is not the page's).
const fetchEventCases = cases.filter(([kind, method]) => kind !== "tunnel" && !(kind.startsWith("connect") && method === "unary"));

for (const interceptFetch of [true, false]) {
  test.describe(interceptFetch ? "fetch fast path" : "worker fetch event", () => {
    test.beforeEach(async ({ page, env }) => {
      await openTunnelApp(page, env, { interceptFetch });
    });

    for (const [kind, method] of interceptFetch ? cases : fetchEventCases) {
      test(`${kind} ${method}: an abort from the page reaches the backend and the next call works`, async ({ page, env }) => {
        const id = `abort-${kind}-${method}-${interceptFetch}-${Date.now()}`;
        // Wait until the backend runs the call, so the abort cannot win a race with its start.
        const call = abortMidCall(page, kind, env.site.url, method, id, 1_000);
        await expect.poll(() => env.grpc.recorder.get(id).seen).toBe(true);
        const r = await call;
        expect(r.error?.code).toBe("Canceled");
        expect(await env.grpc.recorder.waitForCancel(id, 10_000)).toBe(true);
        const next = await swt(page, "unary", kind, env.site.url, { text: "after abort" });
        expect(next.error).toBeUndefined();
        expect(next.value).toMatchObject({ text: "after abort" });
      });
    }

    if (!interceptFetch) {
      // A Connect unary response head carries the call's outcome (its HTTP status), so the worker
      // has no Response to give before the call ended, and so no body the page could cancel. Then
      // only `request.signal` could tell the worker, and it never fires in Chromium or Firefox
      // (docs/DECISIONS.md, "Abort and worker lifetime in every engine"). The page sees Canceled
      // at once; the backend call is cancelled when the page goes away (or by its deadline).
      for (const kind of ["connect-bin", "connect-json"] as const) {
        test(`${kind} unary: an abort ends the call in the page at once; the backend call is cancelled when the page goes away`, async ({
          page,
          context,
          env,
        }) => {
          const id = `abort-${kind}-unary-${Date.now()}`;
          const call = abortMidCall(page, kind, env.site.url, "unary", id, 1_000);
          await expect.poll(() => env.grpc.recorder.get(id).seen).toBe(true);
          const r = await call;
          expect(r.error?.code).toBe("Canceled");
          const next = await swt(page, "unary", kind, env.site.url, { text: "after abort" });
          expect(next.value).toMatchObject({ text: "after abort" });
          // The next call went through the same worker and gateway after the abort: the abandoned
          // call is still running at the backend.
          expect(env.grpc.recorder.get(id).cancelled).toBe(false);
          // Opened first: in WebDriver classic, closing a session's last window ends the session.
          const other = await context.newPage();
          await page.close();
          expect(await env.grpc.recorder.waitForCancel(id, 10_000)).toBe(true);
          await other.goto(`${env.site.url}/`);
          await other.waitForFunction(() => navigator.serviceWorker.controller !== null);
          const after = await swt(other, "unary", kind, env.site.url, { text: "other page" });
          expect(after.value).toMatchObject({ text: "other page" });
        });
      }
    }
  });
}
