/**
 * The benchmark's view of a browser, the same over both engines: Chromium over raw CDP
 * (tools/chromium.ts) and Firefox ESR over raw WebDriver BiDi (tools/firefox.ts). The
 * workloads only navigate, evaluate expressions and read console lines.
 */
import { launchChromium } from "../tools/chromium.js";
import { launchFirefox } from "../tools/firefox.js";

/** The engines the benchmark drives. */
export const engines = ["chromium", "firefox"] as const;
export type Engine = (typeof engines)[number];

/** One page (tab or window). */
export interface BenchPage {
  /** Navigates and resolves once the load event fired. */
  goto(url: string): Promise<void>;
  /** Evaluates an expression, awaiting a returned promise; JSON-serialisable results only. */
  evaluate<T>(expression: string): Promise<T>;
  /** Calls `listener` with each console message (type/level and text); returns an unsubscribe. */
  onConsole(listener: (type: string, text: string) => void): () => void;
  close(): Promise<void>;
}

/** One running browser. */
export interface BenchBrowser {
  readonly engine: Engine;
  /** Product string, e.g. "Chrome/156.0..." or "Firefox/153.8.0". */
  readonly version: string;
  newPage(): Promise<BenchPage>;
  close(): Promise<void>;
}

/** Launches `engine` headless, accepting the self-signed certificate of the HTTP/2 backend. */
export async function launchBenchBrowser(engine: Engine): Promise<BenchBrowser> {
  if (engine === "chromium") {
    const browser = await launchChromium({
      ignoreCertificateErrors: true,
      extraArgs: ["--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"],
    });
    return { engine, version: browser.version, newPage: () => browser.newPage(), close: () => browser.close() };
  }
  const browser = await launchFirefox({ acceptInsecureCerts: true });
  return { engine, version: browser.version, newPage: () => browser.newPage(), close: () => browser.close() };
}
