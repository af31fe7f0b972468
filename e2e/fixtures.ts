/**
 * Playwright fixtures: `env` (servers, once per worker) and `app` (a page of the test app
 * with helpers to register the worker and run calls through `window.swt`).
 */
import { test as base, expect, type Page } from "@playwright/test";
import type { CallOptions, CallResult, Kind, RawFetch, RawResult } from "./app/main.js";
import type { RegisterTunnelOptions } from "../page-sdk/index.js";
import { startEnv, type Env } from "./support/env.js";

type Swt = {
  register(o: RegisterTunnelOptions): Promise<{ controlled: boolean }>;
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
  page: Page,
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
export async function openApp(page: Page, origin: string, options: RegisterTunnelOptions): Promise<void> {
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => "swt" in globalThis);
  const { controlled } = await swt(page, "register", options);
  expect(controlled).toBe(true);
}

export const test = base.extend<object, { env: Env }>({
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
