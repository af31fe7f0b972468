/**
 * Launches Debian's Chromium as a plain child process with remote debugging on a free
 * port, and connects the raw CDP client to it. No Playwright in the measured path.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EndpointLine, stopBrowser, waitForEndpoint } from "./browser-process.js";
import { CdpConnection, openPage, type CdpPage } from "./cdp.js";

/** The Chromium binary every browser part uses: `$SWTUNNEL_CHROMIUM`, else Debian's. */
export const CHROMIUM_PATH = process.env.SWTUNNEL_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Flags for Chromium here: no sandbox (runs as root in CI), no GPU, and no background
 * traffic, which this machine's closed network would refuse many times a second.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /** Browser binary; default {@link CHROMIUM_PATH}. */
  executablePath?: string;
  /** Accept any TLS certificate (the benchmark's self-signed HTTP/2 backend). */
  ignoreCertificateErrors?: boolean;
  /** More command-line flags. */
  extraArgs?: string[];
  /** How long to wait for the DevTools endpoint; default 30 s. */
  startTimeoutMs?: number;
}

/** A running Chromium with its CDP connection. */
export interface Chromium {
  readonly connection: CdpConnection;
  /** Product string, e.g. "Chrome/140.0.7339.80". */
  readonly version: string;
  /** Opens a new tab (about:blank) with Page and Runtime enabled. */
  newPage(): Promise<CdpPage>;
  /** Closes the browser, kills the process if needed and removes the profile directory. */
  close(): Promise<void>;
}

/** The flags every run uses: headless, no background traffic, no QUIC, fresh profile. */
export function chromiumArgs(userDataDir: string, options: LaunchOptions = {}): string[] {
  const args = ["--headless=new", ...CHROMIUM_FLAGS, "--remote-debugging-port=0", `--user-data-dir=${userDataDir}`];
  if (options.ignoreCertificateErrors) args.push("--ignore-certificate-errors");
  args.push(...(options.extraArgs ?? []), "about:blank");
  return args;
}

/** Starts Chromium and connects to its browser DevTools endpoint. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Chromium> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  const userDataDir = await mkdtemp(join(tmpdir(), "swtunnel-chromium-"));
  const child = spawn(executablePath, chromiumArgs(userDataDir, options), { stdio: ["ignore", "ignore", "pipe"] });
  let endpoint: string;
  try {
    endpoint = await waitForEndpoint(child, ENDPOINT_LINE, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    child.kill("SIGKILL");
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const connection = await CdpConnection.connect(endpoint);
  const { product } = await connection.send<{ product: string }>("Browser.getVersion");
  let closed = false;
  return {
    connection,
    version: product,
    newPage: () => openPage(connection),
    async close() {
      if (closed) return;
      closed = true;
      await stopBrowser(child, connection, () => connection.send("Browser.close"), userDataDir);
    },
  };
}

const ENDPOINT_LINE: EndpointLine = {
  browser: "Chromium",
  protocol: "DevTools",
  pattern: /DevTools listening on (ws:\/\/\S+)/,
  hint: "is chromium installed? set CHROMIUM_PATH to the browser binary",
};
