/**
 * Chromium (Blink): Debian's /usr/bin/chromium through Playwright, and stopping the
 * service worker through CDP.
 */
import type { Browser, Page, PlaywrightWorkerArgs } from "@playwright/test";
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from "../../../tools/chromium.js";
import type { TestPage } from "./test-page.js";

/** Launch options of the `chromium` project (also used by Playwright's own `page` in demo.spec.ts). */
export const chromiumLaunchOptions = { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_FLAGS] };

/** Starts headless Chromium. */
export function launchChromium(playwright: PlaywrightWorkerArgs["playwright"]): Promise<Browser> {
  return playwright.chromium.launch({ headless: true, ...chromiumLaunchOptions });
}

/** Stops every service worker of the page's context, as Chromium does when it idles one out. */
export async function stopWorkerChromium(page: TestPage): Promise<void> {
  const p = page as Page;
  const cdp = await p.context().newCDPSession(p);
  try {
    await cdp.send("ServiceWorker.enable");
    await cdp.send("ServiceWorker.stopAllWorkers");
  } finally {
    await cdp.detach();
  }
}
