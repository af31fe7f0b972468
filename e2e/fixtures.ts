/**
 * Playwright fixtures: `env` (servers, once per worker), the browser of the project's
 * `engine` (Chromium and Firefox through Playwright, WebKitGTK through WebKitWebDriver)
 * behind the usual `context`/`page` fixtures, `stopWorker` (the browser stopping the
 * service worker), and helpers to register the worker and run calls through `window.swt`.
 * Specs use only the {@link TestPage} part of a page, which all three engines provide.
 */
import { test as base, expect, type BrowserContext, type Page, type PlaywrightWorkerArgs } from "@playwright/test";
import type { CallOptions, CallResult, Kind, RawFetch, RawResult } from "./app/main.js";
import type { RegisterTunnelOptions } from "../page-sdk/index.js";
import { launchChromium, stopWorkerChromium } from "./support/drivers/chromium.js";
import type { Engine } from "./support/drivers/engine.js";
import { launchFirefox, stopWorkerFirefox } from "./support/drivers/firefox.js";
import type { TestContext, TestPage } from "./support/drivers/test-page.js";
import { launchWebKit } from "./support/drivers/webkit.js";
import { SERVICE_PATH, startEnv, type Env } from "./support/env.js";

export type { Engine, TestPage };

type Swt = {
  register(o: RegisterTunnelOptions): Promise<{ controlled: boolean }>;
  usePageSocket(gateway?: string): string[];
  stats(): Promise<{ status: string; counters: Record<string, number> } | undefined>;
  statuses: string[];
  unary(kind: Kind, baseUrl: string, req: object, o?: CallOptions): Promise<CallResult>;
  fail(kind: Kind, baseUrl: string, req: object, o?: CallOptions): Promise<CallResult>;
  serverStream(kind: Kind, baseUrl: string, req: object, o?: CallOptions): Promise<CallResult>;
  clientStream(kind: Kind, baseUrl: string, count: number, size?: number, o?: CallOptions): Promise<CallResult>;
  bidiPingPong(kind: Kind, baseUrl: string, rounds: number, o?: CallOptions): Promise<CallResult>;
  loop(kind: Kind, baseUrl: string, durationMs: number, gapMs?: number): Promise<{ ok: number; errors: string[] }>;
  fetchPatched(): boolean;
  rawFetch(url: string, init: RawFetch, via: "page" | "original"): Promise<RawResult>;
  timeUnary(kind: Kind, baseUrl: string, n: number): Promise<number>;
};

/** Runs `window.swt[method](...args)` in the page. */
export function swt<M extends keyof Swt>(
  page: TestPage,
  method: M,
  ...args: Swt[M] extends (...a: infer A) => unknown ? A : never
): Promise<Swt[M] extends (...a: never[]) => infer R ? Awaited<R> : never> {
  return page.evaluate(
    ([m, a]) => {
      const s = (globalThis as unknown as { swt: Record<string, (...x: unknown[]) => unknown> }).swt;
      return s[m as string]!(...(a as unknown[]));
    },
    [method, args] as const,
  ) as never;
}

/** Opens the test app at `origin` and registers the worker with `options`; the page is controlled when this returns. */
export async function openApp(page: TestPage, origin: string, options: RegisterTunnelOptions): Promise<void> {
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => "swt" in globalThis);
  const { controlled } = await swt(page, "register", options);
  expect(controlled).toBe(true);
}

/**
 * The usual registration of the test app: the env's gateway carries the test service's
 * calls, and a carried call that fails is an RPC error, never a network fallback.
 */
export function tunnelOptions(env: Env, overrides: Partial<RegisterTunnelOptions> = {}): RegisterTunnelOptions {
  return { gateway: env.gateway.tunnelUrl, match: [env.site.url + SERVICE_PATH], fallback: "error", ...overrides };
}

/** {@link openApp} with {@link tunnelOptions}. */
export function openTunnelApp(page: TestPage, env: Env, overrides: Partial<RegisterTunnelOptions> = {}): Promise<void> {
  return openApp(page, env.site.url, tunnelOptions(env, overrides));
}

/** One engine's browser, as the fixtures need it. */
interface EngineBrowser {
  newContext(): Promise<TestContext>;
  /** Stops the service workers of `page`'s browser (see the lifecycle spec). */
  stopWorker(page: TestPage): Promise<void>;
  close(): Promise<void>;
}

async function launchEngine(engine: Engine, playwright: PlaywrightWorkerArgs["playwright"]): Promise<EngineBrowser> {
  switch (engine) {
    case "chromium": {
      const browser = await launchChromium(playwright);
      return { newContext: () => browser.newContext(), stopWorker: stopWorkerChromium, close: () => browser.close() };
    }
    case "firefox": {
      const { browser, devtoolsPort } = await launchFirefox(playwright);
      return { newContext: () => browser.newContext(), stopWorker: () => stopWorkerFirefox(devtoolsPort), close: () => browser.close() };
    }
    case "webkit": {
      const driver = await launchWebKit();
      return {
        newContext: () => driver.newContext(),
        stopWorker: () => Promise.reject(new Error("WebKitGTK offers no way to stop a service worker from outside")),
        close: () => driver.close(),
      };
    }
  }
}

export const test = base.extend<
  { stopWorker: (page: TestPage) => Promise<void> },
  { env: Env; engine: Engine; engineBrowser: EngineBrowser }
>({
  engine: ["chromium", { option: true, scope: "worker" }],
  engineBrowser: [
    async ({ engine, playwright }, use) => {
      const browser = await launchEngine(engine, playwright);
      await use(browser);
      await browser.close();
    },
    { scope: "worker", timeout: 60_000 },
  ],
  // A fresh context (profile, registrations) per test, as Playwright's own fixture gives.
  // In WebKit it is the WebDriver adapter, typed as Playwright's for the fixture's sake.
  context: async ({ engineBrowser }, use) => {
    const context = await engineBrowser.newContext();
    await use(context as unknown as BrowserContext);
    await context.close();
  },
  page: async ({ context }, use) => {
    await use((await (context as unknown as TestContext).newPage()) as unknown as Page);
  },
  stopWorker: async ({ engineBrowser }, use) => {
    await use((page) => engineBrowser.stopWorker(page));
  },
  env: [
    async ({}, use) => {
      const env = await startEnv();
      await use(env);
      await env.close();
    },
    { scope: "worker", timeout: 60_000 },
  ],
});

export { expect };
