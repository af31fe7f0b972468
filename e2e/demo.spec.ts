/**
 * `npm run demo -- --headless --calls 64` end to end: the grpc-js backend, the gateway,
 * the demo page with its Workbox-built worker, in real headless Chromium (the demo
 * launches its own, so this spec uses no Playwright page). Asserts both SUCCESS lines
 * (fetch client and page-SDK transport, each call counted by the worker as carried
 * through the tunnel), that each run's label comes before its result, and exit code 0.
 * Not timed. Lives here rather than under test/ so that `vitest run` needs no browser.
 */
import { expect, test } from "@playwright/test";
import { main } from "../demo/run.js";

test("the headless demo makes 64 sequential SayHello calls through the tunnel with each client and exits 0", async () => {
  const lines: string[] = [];
  const code = await main(["--headless", "--calls", "64"], { log: (line) => lines.push(line) });
  expect(code).toBe(0);
  const success = /^SUCCESS running 64 transactions! \(average \d+\.\d\d µs per operation\)$/;
  const successes = lines.map((line, i) => [line, i] as const).filter(([line]) => success.test(line));
  expect(successes).toHaveLength(2);
  const fetchLabel = lines.indexOf("unmodified Connect client (fetch, carried by the worker):");
  const sdkLabel = lines.indexOf("page-SDK transport (MessagePort to the worker):");
  expect(fetchLabel).toBeGreaterThanOrEqual(0);
  // Each label is printed before its run's result, and the fetch run comes first.
  expect(fetchLabel).toBeLessThan(successes[0]![1]);
  expect(successes[0]![1]).toBeLessThan(sdkLabel);
  expect(sdkLabel).toBeLessThan(successes[1]![1]);
});
