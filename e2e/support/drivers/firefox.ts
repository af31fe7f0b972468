/**
 * Firefox ESR (Gecko): Debian's /usr/bin/firefox-esr through Playwright's WebDriver BiDi
 * path (`channel: "moz-firefox"`; Playwright pinned to 1.64.x, see docs/DECISIONS.md), and
 * stopping the service worker on demand through Firefox's DevTools server: the same
 * remote debugging protocol about:debugging uses, evaluating one privileged script in
 * the parent process that terminates every worker the ServiceWorkerManager knows.
 */
import { connect, type Socket } from "node:net";
import type { Browser, PlaywrightWorkerArgs } from "@playwright/test";
import { freePort } from "./free-port.js";

/** The Firefox binary: `$SWTUNNEL_FIREFOX`, else Debian's ESR. */
export const FIREFOX_PATH = process.env.SWTUNNEL_FIREFOX ?? "/usr/bin/firefox-esr";

/** A launched Firefox and the port of its DevTools server. */
export interface FirefoxBrowser {
  browser: Browser;
  devtoolsPort: number;
}

/** Starts headless Firefox ESR with its DevTools server on a free loopback port. */
export async function launchFirefox(playwright: PlaywrightWorkerArgs["playwright"]): Promise<FirefoxBrowser> {
  const devtoolsPort = await freePort();
  const browser = await playwright.firefox.launch({
    channel: "moz-firefox",
    executablePath: FIREFOX_PATH,
    headless: true,
    args: ["--start-debugger-server"],
    firefoxUserPrefs: {
      // Else performance.now() moves in 1 ms steps (the streaming specs compare times).
      "privacy.reduceTimerPrecision": false,
      "devtools.debugger.remote-enabled": true,
      "devtools.chrome.enabled": true,
      "devtools.debugger.prompt-connection": false,
      "devtools.debugger.remote-port": devtoolsPort,
    },
  });
  return { browser, devtoolsPort };
}

/** Privileged (parent-process) script: terminates every service worker, answers how many. */
const TERMINATE_ALL = `(() => {
  const swm = Cc["@mozilla.org/serviceworkers/manager;1"].getService(Ci.nsIServiceWorkerManager);
  const registrations = swm.getAllRegistrations();
  let stopped = 0;
  for (let i = 0; i < registrations.length; i++) {
    const r = registrations.queryElementAt(i, Ci.nsIServiceWorkerRegistrationInfo);
    for (const w of [r.activeWorker, r.waitingWorker, r.installingWorker]) {
      if (w) { w.terminateWorker(); stopped++; }
    }
  }
  return stopped;
})()`;

/** Stops every service worker of the Firefox whose DevTools server listens on `devtoolsPort`. */
export async function stopWorkerFirefox(devtoolsPort: number): Promise<void> {
  const rdp = await RdpClient.connect(devtoolsPort);
  try {
    const { processDescriptor } = await rdp.request<{ processDescriptor: { actor: string } }>({ to: "root", type: "getProcess", id: 0 });
    const { process } = await rdp.request<{ process: { consoleActor: string } }>({ to: processDescriptor.actor, type: "getTarget" });
    // The result can arrive in the same chunk as the reply: wait for it before sending.
    const evaluated = rdp.next<{ hasException: boolean; exceptionMessage?: string; result: unknown }>(
      (m) => m.type === "evaluationResult" && m.from === process.consoleActor,
    );
    await rdp.request({ to: process.consoleActor, type: "evaluateJSAsync", text: TERMINATE_ALL });
    const result = await evaluated;
    if (result.hasException) throw new Error(`Firefox could not stop its service workers: ${result.exceptionMessage}`);
    if (typeof result.result !== "number" || result.result < 1)
      throw new Error(`Firefox had no service worker to stop (${JSON.stringify(result.result)})`);
  } finally {
    rdp.close();
  }
}

type Packet = Record<string, unknown> & { from?: string; type?: string; error?: string; message?: string };

/** The Firefox remote debugging protocol's framing (`<length>:<json>`), one request at a time. */
class RdpClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<{ match: (p: Packet) => boolean; resolve: (p: Packet) => void; reject: (e: Error) => void }> = [];

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    const fail = (error: Error) => {
      for (const w of this.waiters.splice(0)) w.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("Firefox DevTools connection closed")));
  }

  static async connect(port: number): Promise<RdpClient> {
    const socket = connect(port, "127.0.0.1");
    const client = new RdpClient(socket);
    await client.next((p) => p.from === "root" && "applicationType" in p);
    return client;
  }

  /** Sends `packet` and resolves with the reply from its actor (an `error` reply throws). */
  async request<T>(packet: { to: string; type: string } & Record<string, unknown>): Promise<T> {
    const reply = this.next((p) => p.from === packet.to && p.type === undefined);
    const json = Buffer.from(JSON.stringify(packet));
    this.socket.write(Buffer.concat([Buffer.from(`${json.length}:`), json]));
    const p = await reply;
    if (p.error) throw new Error(`Firefox DevTools ${packet.type}: ${p.error} ${p.message ?? ""}`);
    return p as T;
  }

  /** The next packet for which `match` holds. */
  next<T>(match: (p: Packet) => boolean): Promise<T & Packet> {
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve: resolve as (p: Packet) => void, reject }));
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const colon = this.buffer.indexOf(":");
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString());
      if (this.buffer.length < colon + 1 + length) return;
      const packet = JSON.parse(this.buffer.subarray(colon + 1, colon + 1 + length).toString()) as Packet;
      this.buffer = this.buffer.subarray(colon + 1 + length);
      const i = this.waiters.findIndex((w) => w.match(packet));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(packet);
    }
  }
}
