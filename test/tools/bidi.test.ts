import { describe, expect, it } from "vitest";
import { BidiConnection, BidiError, BidiPage, type BidiSocket, parseScriptResult } from "../../tools/bidi.js";
import { userJs } from "../../tools/firefox.js";

/** A socket double: records what the client sent, lets the test deliver messages and close. */
class FakeSocket implements BidiSocket {
  readonly sent: { id: number; method: string; params: Record<string, unknown> }[] = [];
  private readonly handlers: Record<string, ((arg?: unknown) => void)[]> = {};
  closed = false;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closed = true;
  }
  on(event: string, listener: (arg: never) => void): this {
    (this.handlers[event] ??= []).push(listener as (arg?: unknown) => void);
    return this;
  }
  deliver(message: unknown): void {
    for (const h of this.handlers.message ?? []) h(Buffer.from(typeof message === "string" ? message : JSON.stringify(message)));
  }
  emit(event: "close" | "error", arg?: unknown): void {
    for (const h of this.handlers[event] ?? []) h(arg);
  }
}

describe("BidiConnection", () => {
  it("matches answers to commands by id, whatever their order", async () => {
    const socket = new FakeSocket();
    const bidi = new BidiConnection(socket);
    const a = bidi.send("session.new", { capabilities: {} });
    const b = bidi.send("browsingContext.create", { type: "window" });
    expect(socket.sent.map((m) => m.method)).toEqual(["session.new", "browsingContext.create"]);
    const [idA, idB] = socket.sent.map((m) => m.id);
    expect(idA).not.toBe(idB);
    socket.deliver({ type: "success", id: idB, result: { context: "ctx-1" } });
    socket.deliver({ type: "success", id: idA, result: { sessionId: "s" } });
    await expect(b).resolves.toEqual({ context: "ctx-1" });
    await expect(a).resolves.toEqual({ sessionId: "s" });
  });

  it("rejects a command answered with an error, and only that one", async () => {
    const socket = new FakeSocket();
    const bidi = new BidiConnection(socket);
    const bad = bidi.send("emulation.setMediaFeaturesOverride");
    const good = bidi.send("script.evaluate");
    socket.deliver({ type: "error", id: socket.sent[0].id, error: "unknown command", message: "no such thing" });
    socket.deliver({ type: "success", id: socket.sent[1].id, result: {} });
    await expect(bad).rejects.toThrow(BidiError);
    await expect(bad).rejects.toThrow("BiDi emulation.setMediaFeaturesOverride failed: unknown command (no such thing)");
    await expect(good).resolves.toEqual({});
  });

  it("dispatches events to subscribers until they unsubscribe", () => {
    const socket = new FakeSocket();
    const bidi = new BidiConnection(socket);
    const seen: unknown[] = [];
    const off = bidi.on("log.entryAdded", (params) => seen.push(params.text));
    socket.deliver({ type: "event", method: "log.entryAdded", params: { text: "one" } });
    socket.deliver({ type: "event", method: "browsingContext.load", params: { text: "other event" } });
    off();
    socket.deliver({ type: "event", method: "log.entryAdded", params: { text: "two" } });
    expect(seen).toEqual(["one"]);
  });

  it("fails pending and later commands once the socket closes", async () => {
    const socket = new FakeSocket();
    const bidi = new BidiConnection(socket);
    const pending = bidi.send("script.evaluate");
    socket.emit("close");
    await expect(pending).rejects.toThrow("the WebDriver BiDi connection closed");
    await expect(bidi.send("browser.close")).rejects.toThrow("the WebDriver BiDi connection closed");
  });

  it("fails pending commands on a message that is not JSON", async () => {
    const socket = new FakeSocket();
    const bidi = new BidiConnection(socket);
    const pending = bidi.send("script.evaluate");
    socket.deliver("{not json");
    await expect(pending).rejects.toThrow(/not JSON/);
  });
});

describe("BidiPage", () => {
  it("evaluates through script.evaluate with awaitPromise and returns the JSON value", async () => {
    const socket = new FakeSocket();
    const page = new BidiPage(new BidiConnection(socket), "ctx-7");
    const result = page.evaluate<{ usPerCall: number }>("swbench.sequential('page-sdk', 10, 1)");
    const sent = socket.sent[0];
    expect(sent.method).toBe("script.evaluate");
    expect(sent.params).toMatchObject({ target: { context: "ctx-7" }, awaitPromise: true });
    expect(sent.params.expression).toContain("JSON.stringify(await (swbench.sequential('page-sdk', 10, 1)))");
    socket.deliver({ type: "success", id: sent.id, result: { type: "success", result: { type: "string", value: '{"usPerCall":812.5}' } } });
    await expect(result).resolves.toEqual({ usPerCall: 812.5 });
  });

  it("passes console lines of its own context only", () => {
    const socket = new FakeSocket();
    const page = new BidiPage(new BidiConnection(socket), "ctx-1");
    const lines: string[] = [];
    page.onConsole((level, text) => lines.push(`${level} ${text}`));
    const entry = (context: string, text: string, type = "console") => ({
      type: "event",
      method: "log.entryAdded",
      params: { type, level: "info", text, source: { context } },
    });
    socket.deliver(entry("ctx-1", "SUCCESS running 8192 transactions! (average 1ms per operation)"));
    socket.deliver(entry("ctx-2", "another window"));
    socket.deliver(entry("ctx-1", "uncaught", "javascript"));
    expect(lines).toEqual(["info SUCCESS running 8192 transactions! (average 1ms per operation)"]);
  });
});

describe("parseScriptResult", () => {
  it("turns a page exception into an Error with its text", () => {
    expect(() => parseScriptResult({ type: "exception", exceptionDetails: { text: "Error: boom" } })).toThrow(
      "page evaluation failed: Error: boom",
    );
  });

  it("returns undefined for an undefined value and refuses a value that is not JSON text", () => {
    expect(parseScriptResult({ type: "success", result: { type: "undefined" } })).toBeUndefined();
    expect(() => parseScriptResult({ type: "success", result: { type: "number", value: 3 } })).toThrow(/expected the JSON text/);
  });
});

describe("userJs", () => {
  it("writes one user_pref line per preference, values as JavaScript literals", () => {
    expect(userJs({ "privacy.reduceTimerPrecision": false, "dom.min_background_timeout_value": 4, "a.b": "x" })).toBe(
      'user_pref("privacy.reduceTimerPrecision", false);\nuser_pref("dom.min_background_timeout_value", 4);\nuser_pref("a.b", "x");\n',
    );
  });
});
