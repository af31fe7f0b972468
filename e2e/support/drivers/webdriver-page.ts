/**
 * The specs' Page subset (test-page.ts) over W3C WebDriver classic (HTTP), for WebKitGTK's
 * WebKitWebDriver. One session is one context (a fresh, ephemeral MiniBrowser); each
 * page is one of its windows. WebDriver talks to one window at a time, so every command
 * goes through a queue that first switches to the page's window; an `evaluate` does not
 * hold the queue while its promise runs: it starts the function, then long-polls its
 * result (each poll returns as soon as the promise settles, or after a short bound), so
 * pages evaluating at the same time take turns.
 */
import type { TestContext, TestPage } from "./test-page.js";

/** Longest a single result poll holds the session before letting another page's command through. */
const POLL_MS = 200;

/** A WebDriver error reply, with the command that caused it. */
export class WebDriverError extends Error {
  constructor(
    readonly command: string,
    readonly error: string,
    message: string,
  ) {
    super(`WebDriver ${command}: ${error}: ${message}`);
  }
}

/** Sends one WebDriver command and returns its `value` (an error reply throws {@link WebDriverError}). */
export async function webdriver<T>(
  base: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const response = await fetch(base + path, {
    method,
    signal,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const reply = (await response.json()) as { value: T & { error?: string; message?: string } };
  if (!response.ok || (reply.value && typeof reply.value === "object" && "error" in reply.value && reply.value.error)) {
    const v = reply.value as { error?: string; message?: string };
    throw new WebDriverError(`${method} ${path}`, v.error ?? String(response.status), v.message ?? "");
  }
  return reply.value;
}

/** One WebDriver session as a {@link TestContext}. */
export class WebDriverContext implements TestContext {
  private queue: Promise<unknown> = Promise.resolve();
  private current: string | undefined;
  private nextEval = 0;
  private closed = false;
  private firstTaken = false;

  private constructor(
    /** `http://127.0.0.1:port/session/<id>` */
    readonly base: string,
    private readonly first: string,
  ) {
    this.current = first;
  }

  /** Opens a session on the driver at `driverUrl` with these capabilities, failing after `timeoutMs`. */
  static async open(driverUrl: string, capabilities: object, timeoutMs: number): Promise<WebDriverContext> {
    const { sessionId } = await webdriver<{ sessionId: string }>(
      driverUrl,
      "POST",
      "/session",
      { capabilities },
      AbortSignal.timeout(timeoutMs),
    );
    const base = `${driverUrl}/session/${sessionId}`;
    await webdriver(base, "POST", "/timeouts", { script: 120_000, pageLoad: 30_000 });
    const handle = await webdriver<string>(base, "GET", "/window");
    return new WebDriverContext(base, handle);
  }

  /** The first call gives the session's own first window; later ones open tabs. */
  async newPage(): Promise<TestPage> {
    if (!this.firstTaken) {
      this.firstTaken = true;
      return new WebDriverPage(this, this.first);
    }
    const { handle } = await this.command(undefined, "POST", "/window/new", { type: "tab" });
    return new WebDriverPage(this, handle as string);
  }

  /** Ends the session, which closes its browser. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    await webdriver(this.base, "DELETE", "").catch(() => undefined);
  }

  /** Runs one command in window `handle` (any window when undefined), after the commands queued before it. */
  command<T = Record<string, unknown>>(
    handle: string | undefined,
    method: "GET" | "POST" | "DELETE",
    path: string,
    body?: unknown,
  ): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw new Error("the WebDriver session is closed");
      if (handle !== undefined && handle !== this.current) {
        await webdriver(this.base, "POST", "/window", { handle });
        this.current = handle;
      }
      const value = await webdriver<T>(this.base, method, path, body);
      if (method === "DELETE" && path === "/window") this.current = undefined;
      return value;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** A fresh id for an in-page evaluation. */
  evalId(): string {
    return `e${++this.nextEval}`;
  }
}

/** Starts `fn(arg)` in the page; its outcome is kept as JSON under `id` until fetched. */
function startScript(fnSource: string): string {
  return `const [id, arg] = arguments;
const store = (window.__swtEvaluations ??= new Map());
const entry = { json: undefined, wake: undefined };
store.set(id, entry);
const settle = (json) => { entry.json = json; if (entry.wake) entry.wake(); };
Promise.resolve().then(() => (${fnSource})(arg)).then(
  (value) => settle(JSON.stringify({ value })),
  (e) => settle(JSON.stringify({ error: String((e && e.stack) || e) })),
);`;
}

/** Resolves with the outcome's JSON once it is there, or with null after `ms`. */
const POLL_SCRIPT = `const [id, ms] = arguments;
const done = arguments[arguments.length - 1];
const entry = window.__swtEvaluations && window.__swtEvaluations.get(id);
if (!entry) return done(JSON.stringify({ lost: true }));
const finish = () => {
  clearTimeout(timer);
  entry.wake = undefined;
  if (entry.json === undefined) return done(null);
  window.__swtEvaluations.delete(id);
  done(entry.json);
};
const timer = setTimeout(finish, ms);
if (entry.json !== undefined) finish(); else entry.wake = finish;`;

/** One window of a {@link WebDriverContext}. */
class WebDriverPage implements TestPage {
  constructor(
    private readonly ctx: WebDriverContext,
    private readonly handle: string,
  ) {}

  goto(url: string): Promise<unknown> {
    return this.ctx.command(this.handle, "POST", "/url", { url });
  }

  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
    return this.run<R>(fn.toString(), arg);
  }

  waitForFunction(fn: () => unknown): Promise<unknown> {
    // Polled in the page, like Playwright's own waitForFunction.
    const poll = `async () => { const f = (${fn.toString()}); while (!(await f())) await new Promise((r) => setTimeout(r, 20)); return true; }`;
    return this.run(poll, undefined);
  }

  private async run<R>(fnSource: string, arg: unknown): Promise<R> {
    const id = this.ctx.evalId();
    await this.ctx.command(this.handle, "POST", "/execute/sync", { script: startScript(fnSource), args: [id, arg ?? null] });
    for (;;) {
      const json = await this.ctx.command<string | null>(this.handle, "POST", "/execute/async", {
        script: POLL_SCRIPT,
        args: [id, POLL_MS],
      });
      if (json === null) continue;
      const outcome = JSON.parse(json) as { value?: R; error?: string; lost?: true };
      if (outcome.lost) throw new Error("page.evaluate: the page navigated or closed before the function settled");
      if (outcome.error !== undefined) throw new Error(`page.evaluate: ${outcome.error}`);
      return outcome.value as R;
    }
  }

  context(): TestContext {
    return this.ctx;
  }

  close(): Promise<void> {
    return this.ctx.command(this.handle, "DELETE", "/window").then(() => undefined);
  }
}
