/**
 * A minimal WebDriver BiDi client over a plain `ws` socket, the Firefox twin of
 * tools/cdp.ts. The benchmark drives Firefox ESR through it rather than through Playwright
 * or Puppeteer, whose network-event subscriptions add 1.5-5 ms to every page fetch in
 * Firefox. Only what the callers need: commands, events, one session, tabs (windows) and
 * script.evaluate.
 */
import { WebSocket } from "ws";
import { RpcSocket, type RpcSocketLike } from "./rpc-socket.js";

/** A BiDi error answered to a command. */
export class BidiError extends Error {
  constructor(method: string, error: string, message: string) {
    super(`BiDi ${method} failed: ${error}${message ? ` (${message})` : ""}`);
    this.name = "BidiError";
  }
}

/** What the connection needs of a socket (a `ws` WebSocket; a fake one in unit tests). */
export type BidiSocket = RpcSocketLike;

type Listener = (params: Record<string, unknown>) => void;

/** One BiDi WebSocket connection (`ws://host:port/session`). */
export class BidiConnection extends RpcSocket<Listener> {
  /** Wraps an open socket; {@link BidiConnection.connect} opens one. */
  constructor(socket: BidiSocket) {
    super(socket, "the WebDriver BiDi connection closed");
  }

  /** Opens the BiDi WebSocket at `url` (the endpoint Firefox printed, plus `/session`). */
  static connect(url: string): Promise<BidiConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
      socket.once("open", () => resolve(new BidiConnection(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends a command; resolves with its `result`, rejects with a {@link BidiError}. */
  send<T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> {
    return this.command<T>(method, (id) => ({ id, method, params }));
  }

  protected onMessage(text: string): void {
    let message: {
      type?: string;
      id?: number | null;
      method?: string;
      params?: Record<string, unknown>;
      result?: unknown;
      error?: string;
      message?: string;
    };
    try {
      message = JSON.parse(text);
    } catch {
      this.failAll(new Error(`WebDriver BiDi sent a message that is not JSON: ${text.slice(0, 200)}`));
      return;
    }
    if (message.type === "event" && message.method) {
      this.emit(message.method, message.params ?? {});
      return;
    }
    if (typeof message.id !== "number") return; // an error about an unparsable command: no caller to tell
    const failed = message.type === "error";
    this.reply(
      message.id,
      message.result ?? {},
      failed ? (method) => new BidiError(method, message.error ?? "error", message.message ?? "") : undefined,
    );
  }
}

/** Result of script.evaluate / script.callFunction. */
interface ScriptResult {
  type: "success" | "exception";
  result?: { type: string; value?: unknown };
  exceptionDetails?: { text?: string; exception?: { type: string; value?: unknown } };
}

/** A top-level browsing context (its own window, so it is never a throttled background tab). */
export class BidiPage {
  constructor(
    readonly connection: BidiConnection,
    readonly context: string,
  ) {}

  /** Navigates and resolves once the load event fired. */
  async goto(url: string): Promise<void> {
    await this.connection.send("browsingContext.navigate", { context: this.context, url, wait: "complete" });
  }

  /**
   * Evaluates an expression in the page, awaiting a returned promise, and returns its value.
   * The value travels as JSON text (JSON-serialisable values only), which spares decoding
   * BiDi's typed remote values. A thrown exception becomes an Error with its text.
   */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.connection.send<ScriptResult>("script.evaluate", {
      expression: `(async () => JSON.stringify(await (${expression})))()`,
      target: { context: this.context },
      awaitPromise: true,
      resultOwnership: "none",
    });
    return parseScriptResult<T>(result);
  }

  /** Calls `listener` with each console message of this page (needs `log.entryAdded` subscribed). */
  onConsole(listener: (type: string, text: string) => void): () => void {
    return this.connection.on("log.entryAdded", (params) => {
      const source = params.source as { context?: string } | undefined;
      if (source?.context !== this.context || params.type !== "console") return;
      listener(String(params.level ?? params.method ?? "log"), String(params.text ?? ""));
    });
  }

  /** Closes the window. */
  async close(): Promise<void> {
    await this.connection.send("browsingContext.close", { context: this.context }).catch(() => undefined);
  }
}

/** The value of a script.evaluate of a `JSON.stringify(...)` expression, or the page's exception as an Error. */
export function parseScriptResult<T>(result: ScriptResult): T {
  if (result.type === "exception") {
    const exception = result.exceptionDetails?.exception;
    const detail = result.exceptionDetails?.text ?? (typeof exception?.value === "string" ? exception.value : "unknown error");
    throw new Error(`page evaluation failed: ${detail}`);
  }
  const value = result.result;
  if (value?.type === "undefined") return undefined as T;
  if (value?.type !== "string" || typeof value.value !== "string") {
    throw new Error(`page evaluation returned ${JSON.stringify(value)}, expected the JSON text of its value`);
  }
  return JSON.parse(value.value) as T;
}

/** Opens a new window and returns its page. */
export async function openBidiPage(connection: BidiConnection): Promise<BidiPage> {
  const { context } = await connection.send<{ context: string }>("browsingContext.create", { type: "window" });
  return new BidiPage(connection, context);
}
