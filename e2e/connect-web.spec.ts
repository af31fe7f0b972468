// Unmodified @connectrpc/connect-web clients (Connect binary, Connect JSON, gRPC-Web)
// calling through the worker, the tunnel and the gateway to a grpc-js backend.
import { expect, swt, test, openTunnelApp } from "./fixtures.js";
import { metric } from "./support/env.js";

const kinds = ["connect-bin", "connect-json", "grpc-web"] as const;
// gRPC codes 1..16 and the names Connect-ES gives them.
const codes = [
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

// Each test runs on the page's fetch fast path (the default) and on the worker's fetch event.
for (const interceptFetch of [true, false]) {
  for (const kind of kinds) {
    test.describe(`${kind}, ${interceptFetch ? "fetch fast path" : "worker fetch event"}`, () => {
      test.beforeEach(async ({ page, env }) => {
        await openTunnelApp(page, env, { interceptFetch });
      });

      test("unary goes through the tunnel", async ({ page, env }) => {
        const before = await metric(env.gateway, "swtunnel_streams_total");
        const portCalls = (await swt(page, "stats"))!.counters.portCalls!;
        const r = await swt(page, "unary", kind, env.site.url, { text: "hello", responseSize: 1000 });
        expect(r.error).toBeUndefined();
        expect(r.value).toMatchObject({ text: "hello", payload: 1000 });
        expect(await metric(env.gateway, "swtunnel_streams_total")).toBe(before + 1);
        // The fast path carries the call over the page's port, the worker path in a fetch event.
        expect((await swt(page, "stats"))!.counters.portCalls).toBe(portCalls + (interceptFetch ? 1 : 0));
      });

      test("server streaming arrives message by message, before the stream ends", async ({ page, env }) => {
        const r = await swt(page, "serverStream", kind, env.site.url, { count: 5, size: 100, intervalMs: 300 });
        expect(r.error).toBeUndefined();
        expect(r.messages!.map((m) => m.index)).toEqual([0, 1, 2, 3, 4]);
        const first = r.messages![0]!.t;
        const last = r.messages![4]!.t;
        // Buffered delivery would hand all five over at the end, at about the same time.
        expect(last - first).toBeGreaterThan(4 * 300 * 0.5);
        expect(r.end! - first).toBeGreaterThan(4 * 300 * 0.5);
      });

      test("every error code arrives with its message and details", async ({ page, env }) => {
        for (let code = 1; code <= 16; code++) {
          const r = await swt(page, "fail", kind, env.site.url, { code, message: `failed with ${code}`, detail: `reason-${code}` });
          expect(r.error, `code ${code}`).toEqual({ code: codes[code - 1], message: `failed with ${code}`, reasons: [`reason-${code}`] });
        }
      });

      test("metadata and trailers are echoed", async ({ page, env }) => {
        const r = await swt(
          page,
          "unary",
          kind,
          env.site.url,
          { text: "m" },
          { headers: { "x-echo-a": "alpha", "x-echo-data-bin": "AAEC" } },
        );
        expect(r.error).toBeUndefined();
        expect(r.header["x-echo-a"]).toBe("alpha");
        expect(r.trailer["x-echo-a-t"]).toBe("alpha");
        expect(r.trailer["x-echo-data-t-bin"]).toBe("AAEC");
        const s = await swt(page, "serverStream", kind, env.site.url, { count: 2 }, { headers: { "x-echo-s": "sv" } });
        expect(s.header["x-echo-s"]).toBe("sv");
        expect(s.trailer["x-echo-s-t"]).toBe("sv");
      });

      test("a deadline ends the call with deadline_exceeded and reaches the backend", async ({ page, env }) => {
        const id = `deadline-${kind}-${interceptFetch}`;
        const r = await swt(page, "unary", kind, env.site.url, { id, delayMs: 3000 }, { timeoutMs: 400 });
        expect(r.error?.code).toBe("DeadlineExceeded");
        await expect.poll(() => env.grpc.recorder.get(id).timeoutMs).toBeGreaterThan(0);
      });

      test("an abort mid-stream reaches the backend as a cancel", async ({ page, env }) => {
        const id = `abort-${kind}-${interceptFetch}-${Date.now()}`;
        const r = await swt(page, "serverStream", kind, env.site.url, { id, count: 100, intervalMs: 100 }, { abortAfter: 2 });
        expect(r.messages).toHaveLength(2);
        expect(r.error?.code).toBe("Canceled");
        await expect.poll(() => env.grpc.recorder.get(id).cancelled, { timeout: 10_000 }).toBe(true);
      });
    });
  }
}
