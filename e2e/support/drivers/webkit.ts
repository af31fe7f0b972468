/**
 * WebKit: WebKitGTK's MiniBrowser driven by WebKitWebDriver (W3C WebDriver classic over
 * HTTP; Debian's webkit2gtk-driver), on an Xvfb display started here (MiniBrowser has
 * no headless mode). Playwright's own WebKit build is never launched: the `context` and
 * `page` fixtures hand the specs the WebDriver adapter of webdriver-page.ts instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./free-port.js";
import { WebDriverContext, webdriver } from "./webdriver-page.js";

/** The MiniBrowser binary: `$SWTUNNEL_MINIBROWSER`, else Debian's (webkit2gtk-4.1). */
export const MINIBROWSER_PATH = process.env.SWTUNNEL_MINIBROWSER ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
/** The driver binary: `$SWTUNNEL_WEBKIT_DRIVER`, else Debian's. */
export const WEBKIT_DRIVER_PATH = process.env.SWTUNNEL_WEBKIT_DRIVER ?? "/usr/bin/WebKitWebDriver";

/** How long a new WebDriver session may take to start (measured: about 0.3 s when it works). */
const SESSION_TIMEOUT_MS = 15_000;

/** A running Xvfb + WebKitWebDriver; each context is one WebDriver session (a fresh MiniBrowser). */
export interface WebKitDriver {
  /** Opens a new session. `--automation` is required: without it the session request hangs. */
  newContext(): Promise<WebDriverContext>;
  /** Stops the driver and the display. */
  close(): Promise<void>;
}

/** Starts Xvfb on a free display and WebKitWebDriver on a free port, and waits until both answer. */
export async function launchWebKit(timeoutMs = 20_000): Promise<WebKitDriver> {
  const xvfb = spawn("Xvfb", ["-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x1024x24"], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  let driver: ChildProcess | undefined;
  try {
    const display = await readDisplay(xvfb, timeoutMs);
    const port = await freePort();
    driver = spawn(WEBKIT_DRIVER_PATH, [`--port=${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DISPLAY: `:${display}` },
    });
    const log = tail(driver);
    const url = `http://127.0.0.1:${port}`;
    await waitForDriver(driver, url, log, timeoutMs);
    const d = driver;
    const contexts = new Set<WebDriverContext>();
    const capabilities = { alwaysMatch: { "webkitgtk:browserOptions": { binary: MINIBROWSER_PATH, args: ["--automation"] } } };
    return {
      async newContext() {
        // One session start of the first 51 here never completed (the driver dropped the
        // request after about a minute): give up on it after SESSION_TIMEOUT_MS and
        // start another one, once. The browser under test is not involved yet.
        let ctx: WebDriverContext;
        try {
          ctx = await WebDriverContext.open(url, capabilities, SESSION_TIMEOUT_MS);
        } catch (first) {
          console.warn(
            `[webkit] a WebDriver session did not start (${(first as Error).message}); starting another. Driver log: ${log.text()}`,
          );
          ctx = await WebDriverContext.open(url, capabilities, SESSION_TIMEOUT_MS);
        }
        contexts.add(ctx);
        return ctx;
      },
      async close() {
        for (const ctx of contexts) await ctx.close();
        await stop(d);
        await stop(xvfb);
      },
    };
  } catch (error) {
    if (driver) await stop(driver);
    await stop(xvfb);
    throw error;
  }
}

function readDisplay(xvfb: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`Xvfb printed no display within ${timeoutMs} ms: ${err}`)), timeoutMs);
    xvfb.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    (xvfb.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.trim());
      }
    });
    xvfb.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start Xvfb (apt-get install xvfb): ${e.message}`));
    });
    xvfb.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (code ${code}) before giving a display: ${err}`));
    });
  });
}

/** Keeps the last few KB of a child's output (read continuously, so the child never blocks on a full pipe). */
function tail(child: ChildProcess, max = 4096): { text(): string } {
  let text = "";
  const keep = (d: Buffer) => {
    text = (text + d.toString()).slice(-max);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { text: () => text };
}

async function waitForDriver(driver: ChildProcess, url: string, log: { text(): string }, timeoutMs: number): Promise<void> {
  let exited: string | undefined;
  driver.once("error", (e) => (exited = `could not start ${WEBKIT_DRIVER_PATH} (apt-get install webkit2gtk-driver): ${e.message}`));
  driver.once("exit", (code) => (exited = `WebKitWebDriver exited (code ${code}): ${log.text()}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(exited);
    const ready = await webdriver<{ ready: boolean }>(url, "GET", "/status").then(
      (s) => s.ready,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on ${url} within ${timeoutMs} ms: ${log.text()}`);
    // Poll interval while the driver starts (it prints no readiness line).
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}
