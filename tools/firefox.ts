/**
 * Launches Debian's Firefox ESR as a plain child process with WebDriver BiDi on a free
 * port, and connects the raw BiDi client to it (the Firefox twin of tools/chromium.ts).
 * No Playwright, Puppeteer or geckodriver in the measured path.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EndpointLine, stopBrowser, waitForEndpoint } from "./browser-process.js";
import { BidiConnection, openBidiPage, type BidiPage } from "./bidi.js";

/** The Firefox binary: `$SWTUNNEL_FIREFOX`, else Debian's ESR. */
export const FIREFOX_PATH = process.env.SWTUNNEL_FIREFOX ?? "/usr/bin/firefox-esr";

/**
 * Profile preferences (user.js): full-resolution timers, no timer throttling in windows
 * that are not focused, and no background traffic (this machine's network is closed).
 */
export const FIREFOX_PREFS: Readonly<Record<string, string | number | boolean>> = {
  "privacy.reduceTimerPrecision": false,
  "dom.min_background_timeout_value": 4,
  "dom.timeout.enable_budget_timer_throttling": false,
  "browser.shell.checkDefaultBrowser": false,
  "browser.startup.homepage_override.mstone": "ignore",
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
  "app.update.enabled": false,
  "app.normandy.enabled": false,
  "extensions.update.enabled": false,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
};

/** Options of {@link launchFirefox}. */
export interface FirefoxLaunchOptions {
  /** Browser binary; default {@link FIREFOX_PATH}. */
  executablePath?: string;
  /** Accept any TLS certificate (the benchmark's self-signed HTTP/2 backend). */
  acceptInsecureCerts?: boolean;
  /** How long to wait for the BiDi endpoint; default 60 s. */
  startTimeoutMs?: number;
}

/** A running Firefox with its BiDi session. */
export interface Firefox {
  readonly connection: BidiConnection;
  /** Product string, e.g. "Firefox/153.8.0". */
  readonly version: string;
  /** Opens a new window (about:blank). */
  newPage(): Promise<BidiPage>;
  /** Ends the session, kills the process if needed and removes the profile directory. */
  close(): Promise<void>;
}

/** The user.js text for `prefs`. */
export function userJs(prefs: Readonly<Record<string, string | number | boolean>>): string {
  return Object.entries(prefs)
    .map(([name, value]) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});\n`)
    .join("");
}

/** Starts Firefox headless with a fresh profile and opens a BiDi session. */
export async function launchFirefox(options: FirefoxLaunchOptions = {}): Promise<Firefox> {
  const profile = await mkdtemp(join(tmpdir(), "swtunnel-firefox-"));
  await writeFile(join(profile, "user.js"), userJs(FIREFOX_PREFS));
  const child = spawn(options.executablePath ?? FIREFOX_PATH, ["--headless", "--remote-debugging-port=0", "--profile", profile], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let connection: BidiConnection;
  let version: string;
  try {
    const endpoint = await waitForEndpoint(child, ENDPOINT_LINE, options.startTimeoutMs ?? 60_000);
    connection = await BidiConnection.connect(`${endpoint}/session`);
    const session = await connection.send<{ capabilities: { browserName?: string; browserVersion?: string } }>("session.new", {
      capabilities: { alwaysMatch: { acceptInsecureCerts: options.acceptInsecureCerts ?? false } },
    });
    version = `Firefox/${session.capabilities.browserVersion ?? "?"}`;
    await connection.send("session.subscribe", { events: ["log.entryAdded"] });
  } catch (error) {
    child.kill("SIGKILL");
    await rm(profile, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }
  let closed = false;
  return {
    connection,
    version,
    newPage: () => openBidiPage(connection),
    async close() {
      if (closed) return;
      closed = true;
      await stopBrowser(child, connection, () => connection.send("browser.close"), profile);
    },
  };
}

const ENDPOINT_LINE: EndpointLine = {
  browser: "Firefox",
  protocol: "WebDriver BiDi",
  pattern: /WebDriver BiDi listening on (ws:\/\/\S+)/,
  hint: "is firefox-esr installed? set SWTUNNEL_FIREFOX to the browser binary",
};
