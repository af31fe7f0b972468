/**
 * Hides a page the way a user does: opens a second tab over it. In Playwright's engines a
 * click calls window.open (no popup blocker): Firefox opens a tab in the same window and
 * hides the first page; headless Chromium opens every page in its own window and keeps
 * all of them visible (docs/DECISIONS.md, "Abort and worker lifetime in every engine").
 * WebKitGTK's WebDriver adapter opens a new MiniBrowser window, which hides nothing.
 */
import type { Page } from "@playwright/test";
import type { TestPage } from "./drivers/test-page.js";

/** Whether opening a tab over a page hides it, per engine (measured). */
// WebKitGTK: WebDriver's new window is a MiniBrowser window of its own; the first stays visible.
export const TAB_OVER_HIDES: Record<string, boolean> = { chromium: false, firefox: true, webkit: false };

const isPlaywrightPage = (page: TestPage): page is TestPage & Page => "click" in page;

/** Opens a tab of the page's origin over `page`; returns the new tab (at the same URL). */
export async function openTabOver(page: TestPage): Promise<TestPage> {
  const url = await page.evaluate(() => location.href, undefined);
  if (!isPlaywrightPage(page)) {
    const tab = await page.context().newPage();
    await tab.goto(url);
    return tab;
  }
  await page.evaluate(() => {
    const b = document.createElement("button");
    b.id = "swt-open-tab";
    b.textContent = "open a tab";
    b.onclick = () => window.open(location.href);
    document.body.append(b);
  });
  const opened = (page as Page).context().waitForEvent("page");
  await page.click("#swt-open-tab");
  const tab = await opened;
  await tab.waitForLoadState("load");
  return tab;
}

/** The page's `document.visibilityState`. */
export function visibility(page: TestPage): Promise<DocumentVisibilityState> {
  return page.evaluate(() => document.visibilityState, undefined);
}
