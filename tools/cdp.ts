/**
 * A minimal Chrome DevTools Protocol client over a plain `ws` socket. The benchmark and the
 * headless demo drive Chromium through it rather than through Playwright, because
 * Playwright's network instrumentation slows page fetches (~45%) and page WebSockets (~2x)
 * and would distort every figure. Only what the callers need: commands, events, flat
 * sessions (Target.attachToTarget with flatten) and Runtime.evaluate.
 */
import { WebSocket } from "ws";
import { RpcSocket } from "./rpc-socket.js";

/** A CDP protocol error answered to a command. */
export class CdpError extends Error {
  constructor(method: string, message: string) {
    super(`CDP ${method} failed: ${message}`);
    this.name = "CdpError";
  }
}

type Listener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

/** One DevTools WebSocket connection (browser endpoint), multiplexing flat sessions. */
export class CdpConnection extends RpcSocket<Listener> {
  private constructor(socket: WebSocket) {
    super(socket, "the DevTools connection closed");
  }

  /** Opens the browser-level DevTools WebSocket (`ws://127.0.0.1:port/devtools/browser/...`). */
  static connect(url: string): Promise<CdpConnection> {
    return new Promise((resolve, reject) => {
      // No size cap: evaluate results (benchmark samples) can be large.
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
      socket.once("open", () => resolve(new CdpConnection(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends a command (to the browser, or to a flat session if `sessionId` is given). */
  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    return this.command<T>(method, (id) => (sessionId === undefined ? { id, method, params } : { id, method, params, sessionId }));
  }

  /** Resolves with the params of the next `method` event accepted by `filter`. */
  waitFor(
    method: string,
    filter: (params: Record<string, unknown>, sessionId: string | undefined) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for CDP event ${method}`));
      }, timeoutMs);
      const off = this.on(method, (params, sessionId) => {
        if (!filter(params, sessionId)) return;
        clearTimeout(timer);
        off();
        resolve(params);
      });
    });
  }

  protected onMessage(text: string): void {
    const message = JSON.parse(text) as {
      id?: number;
      method?: string;
      params?: Record<string, unknown>;
      result?: unknown;
      error?: { message: string; data?: string };
      sessionId?: string;
    };
    if (message.id !== undefined) {
      const error = message.error;
      const detail = error && (error.data ? `${error.message} (${error.data})` : error.message);
      this.reply(message.id, message.result ?? {}, error ? (method) => new CdpError(method, detail!) : undefined);
      return;
    }
    if (message.method) this.emit(message.method, message.params ?? {}, message.sessionId);
  }
}

/** Result shape of Runtime.evaluate. */
interface EvaluateResult {
  result: { type: string; value?: unknown; description?: string };
  exceptionDetails?: { text: string; exception?: { description?: string } };
}

/** A page (tab) attached through a flat session. */
export class CdpPage {
  constructor(
    readonly connection: CdpConnection,
    readonly targetId: string,
    readonly sessionId: string,
  ) {}

  /** Sends a command to this page's session. */
  send<T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> {
    return this.connection.send<T>(method, params, this.sessionId);
  }

  /** Navigates and resolves once the load event fired. */
  async goto(url: string, timeoutMs = 30_000): Promise<void> {
    const loaded = this.connection.waitFor("Page.loadEventFired", (_p, s) => s === this.sessionId, timeoutMs);
    const result = await this.send<{ errorText?: string }>("Page.navigate", { url });
    if (result.errorText) throw new Error(`navigation to ${url} failed: ${result.errorText}`);
    await loaded;
  }

  /**
   * Evaluates an expression in the page, awaiting a returned promise, and returns its value
   * (JSON-serialisable values only). A thrown exception becomes an Error with its text.
   */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.send<EvaluateResult>("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    });
    if (result.exceptionDetails) {
      const detail = result.exceptionDetails.exception?.description ?? result.exceptionDetails.text;
      throw new Error(`page evaluation failed: ${detail}`);
    }
    return result.result.value as T;
  }

  /** Calls `listener` with each console message text of this page. */
  onConsole(listener: (type: string, text: string) => void): () => void {
    return this.connection.on("Runtime.consoleAPICalled", (params, sessionId) => {
      if (sessionId !== this.sessionId) return;
      const args = (params.args as { value?: unknown; description?: string }[]) ?? [];
      const text = args.map((a) => (a.value !== undefined ? String(a.value) : (a.description ?? ""))).join(" ");
      listener(String(params.type), text);
    });
  }

  /** Closes the tab. */
  async close(): Promise<void> {
    await this.connection.send("Target.closeTarget", { targetId: this.targetId }).catch(() => undefined);
  }
}

/** Opens a new tab at about:blank, attaches a flat session and enables Page and Runtime. */
export async function openPage(connection: CdpConnection): Promise<CdpPage> {
  const { targetId } = await connection.send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await connection.send<{ sessionId: string }>("Target.attachToTarget", {
    targetId,
    flatten: true,
  });
  const page = new CdpPage(connection, targetId, sessionId);
  await page.send("Page.enable");
  await page.send("Runtime.enable");
  return page;
}
