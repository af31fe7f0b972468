import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./e2e/support/drivers/chromium.js";
import { selectEngines } from "./e2e/support/drivers/engine.js";

/**
 * Browser tests in three engines from Debian packages (no browser download): Chromium
 * (/usr/bin/chromium), Firefox ESR (/usr/bin/firefox-esr, WebDriver BiDi) and WebKitGTK
 * (MiniBrowser through WebKitWebDriver). One project per engine, the same spec files;
 * `SWTUNNEL_ENGINES=chromium` (comma-separated) limits a run. The browser and the
 * servers are started per Playwright worker by fixtures (e2e/fixtures.ts).
 * `SWTUNNEL_LONG_TESTS=0` leaves out the tests tagged `@long` (the 75 s worker-lifetime
 * stream): CI's repeat runs on other Node versions, where only the Node side changes.
 */
export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  grepInvert: process.env.SWTUNNEL_LONG_TESTS === "0" ? /@long/ : undefined,
  projects: selectEngines(process.env.SWTUNNEL_ENGINES).map((engine) => ({
    name: engine,
    use: {
      engine,
      headless: true,
      // Only Playwright's own `page` (demo.spec.ts) launches this; the others go through `engine`.
      browserName: "chromium" as const,
      launchOptions: chromiumLaunchOptions,
    },
    // The demo launches its own Chromium: a Chromium-only spec.
    testIgnore: engine === "chromium" ? [] : ["**/demo.spec.ts"],
  })),
});
