/**
 * `npm run demo -- --headless --calls 64` end to end: the grpc-js backend, the gateway,
 * the demo page with its Workbox-built worker, in real headless Chromium. Asserts both
 * SUCCESS lines (fetch client and page-SDK transport, each call counted by the worker as
 * carried through the tunnel) and exit code 0. Not timed.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../demo/run.js";

describe("headless demo", () => {
  it("makes 64 sequential SayHello calls through the tunnel with each client and exits 0", async () => {
    const lines: string[] = [];
    const code = await main(["--headless", "--calls", "64"], { log: (line) => lines.push(line) });
    expect(code).toBe(0);
    const successes = lines.filter((line) => /^SUCCESS running 64 transactions! \(average \d+\.\d\d µs per operation\)$/.test(line));
    expect(successes).toHaveLength(2);
    expect(lines.indexOf("unmodified Connect client (fetch, carried by the worker):")).toBeLessThan(
      lines.indexOf("page-SDK transport (MessagePort to the worker):"),
    );
  });
});
