import { openApp, swt, test } from "./fixtures.js";
import { SERVICE_PATH } from "./support/env.js";
test("latency", async ({ page, env }) => {
  test.setTimeout(300_000);
  const o = { gateway: env.gateway.tunnelUrl, match: [env.site.url + SERVICE_PATH], fallback: "error" as const };
  await openApp(page, env.site.url, o);
  const out: string[] = [];
  for (let round = 0; round < 2; round++) {
    await openApp(page, env.site.url, { ...o, interceptFetch: true });
    const fast = await swt(page, "timeUnary", "connect-bin", env.site.url, 500);
    await openApp(page, env.site.url, { ...o, interceptFetch: false });
    const worker = await swt(page, "timeUnary", "connect-bin", env.site.url, 500);
    const tunnel = await swt(page, "timeUnary", "tunnel", env.site.url, 500);
    out.push(`round ${round}: fast path ${fast.toFixed(3)} ms, worker fetch event ${worker.toFixed(3)} ms, gRPC port transport ${tunnel.toFixed(3)} ms`);
  }
  console.log(out.join("\n"));
});
