/**
 * The raw DevTools Protocol client (tools/cdp.ts over tools/rpc-socket.ts) against Debian's
 * real Chromium: what the benchmark and the headless demo rely on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CdpError } from "../../tools/cdp.js";
import { type Chromium, launchChromium } from "../../tools/chromium.js";

describe("CDP client on a real Chromium", () => {
  let chromium: Chromium;
  beforeAll(async () => {
    chromium = await launchChromium();
  }, 60_000);
  afterAll(() => chromium?.close());

  it("evaluates in a page, awaiting promises, and turns a page exception into an Error", async () => {
    expect(chromium.version).toMatch(/^(Headless)?Chrome\//);
    const page = await chromium.newPage();
    expect(await page.evaluate<number>("Promise.resolve(6 * 7)")).toBe(42);
    await expect(page.evaluate("(() => { throw new Error('boom') })()")).rejects.toThrow(/page evaluation failed: Error: boom/);
    await page.close();
  });

  it("answers each command by its id, an unknown method with a CdpError naming it, and events to their listeners", async () => {
    const page = await chromium.newPage();
    const [a, b] = await Promise.all([page.evaluate<string>("'a'"), page.evaluate<string>("'b'")]);
    expect([a, b]).toEqual(["a", "b"]);
    const err = await chromium.connection.send("No.suchMethod").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CdpError);
    expect(String(err)).toMatch(/CDP No\.suchMethod failed/);
    const logged = new Promise<string>((resolve) => page.onConsole((_type, text) => resolve(text)));
    await page.evaluate("console.log('hello', 7)");
    expect(await logged).toBe("hello 7");
    await page.close();
  });
});
