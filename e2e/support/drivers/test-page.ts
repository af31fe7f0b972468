/**
 * The part of Playwright's `Page` the e2e specs use (through `swt`/`openApp` in
 * e2e/fixtures.ts and the `context`/`page` fixtures). A Playwright page has it; in WebKit
 * the WebDriver adapter (webdriver-page.ts) implements just this.
 */
export interface TestPage {
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<unknown>;
  /** Runs `fn(arg)` in the page and resolves with its JSON-like result (a rejection throws). */
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Resolves once `fn()` returns a truthy value in the page. */
  waitForFunction(fn: () => unknown): Promise<unknown>;
  /** The browser context (same profile, same service worker registrations) of this page. */
  context(): TestContext;
  /** Closes the tab. */
  close(): Promise<void>;
}

/** The part of Playwright's `BrowserContext` the specs use. */
export interface TestContext {
  /** Opens another tab in the same context. */
  newPage(): Promise<TestPage>;
  /** Closes every tab of the context. */
  close(): Promise<void>;
}
