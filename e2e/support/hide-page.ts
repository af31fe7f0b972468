/**
 * Hides a page the way a user does: opens a second tab over it (window.open from a click,
 * so no popup blocker). Firefox opens a tab in the same window and hides the first page;
 * headless Chromium opens every page in its own window and keeps all of them visible
 * (docs/DECISIONS.md, "Abort and worker lifetime in every engine").
 */
import type { Page } from "@playwright/test";

/** Whether opening a tab over a page hides it, per engine (measured). */
export const TAB_OVER_HIDES: Record<string, boolean> = { chromium: false, firefox: true, webkit: true };

/** Opens a tab of the page's origin over `page`; returns the new tab. */
export async function openTabOver(page: Page): Promise<Page> {
  await page.evaluate(() => {
    const b = document.createElement("button");
    b.id = "swt-open-tab";
    b.textContent = "open a tab";
    b.onclick = () => window.open(`${location.origin}/index.html#over`);
    document.body.append(b);
  });
  const opened = page.context().waitForEvent("page");
  await page.click("#swt-open-tab");
  const tab = await opened;
  await tab.waitForLoadState("load");
  return tab;
}

/** The page's `document.visibilityState`. */
export function visibility(page: Page): Promise<DocumentVisibilityState> {
  return page.evaluate(() => document.visibilityState);
}
