import { describe, expect, it } from "vitest";
import { Recorder, echoTrailerName, isEchoHeader, patternBytes } from "../../demo/backend/index.js";

describe("Recorder", () => {
  it("reports unknown ids as unseen", () => {
    expect(new Recorder().get("x")).toEqual({ seen: false, cancelled: false, timeoutMs: -1, messagesSent: 0 });
  });

  it("records seen, timeout, sent and cancel", () => {
    const r = new Recorder();
    r.seen("a", 1234.4);
    r.sent("a");
    r.sent("a");
    r.cancelled("a");
    expect(r.get("a")).toEqual({ seen: true, cancelled: true, timeoutMs: 1234, messagesSent: 2 });
    r.seen("b", undefined);
    expect(r.get("b").timeoutMs).toBe(-1);
  });

  it("ignores the empty id", () => {
    const r = new Recorder();
    r.seen("", 5);
    r.cancelled("");
    expect(r.get("")).toMatchObject({ seen: false, cancelled: false });
  });

  it("waitForCancel resolves true on a later cancel and false without one", async () => {
    const r = new Recorder();
    r.seen("a", undefined);
    const waiting = r.waitForCancel("a", 5000);
    r.cancelled("a");
    expect(await waiting).toBe(true);
    expect(await r.waitForCancel("a", 1)).toBe(true);
    expect(await r.waitForCancel("b", 10)).toBe(false);
  });

  it("forgets the oldest ids beyond maxIds", () => {
    const r = new Recorder({ maxIds: 2 });
    r.seen("a", undefined);
    r.seen("b", undefined);
    r.seen("c", undefined);
    expect(r.get("a").seen).toBe(false);
    expect(r.get("b").seen).toBe(true);
    expect(r.get("c").seen).toBe(true);
  });
});

describe("metadata echo names", () => {
  it("inserts -t before -bin", () => {
    expect(echoTrailerName("x-echo-a")).toBe("x-echo-a-t");
    expect(echoTrailerName("x-echo-data-bin")).toBe("x-echo-data-t-bin");
    expect(echoTrailerName("X-Echo-B")).toBe("x-echo-b-t");
  });
  it("matches the x-echo- prefix only", () => {
    expect(isEchoHeader("x-echo-a")).toBe(true);
    expect(isEchoHeader("X-ECHO-a")).toBe(true);
    expect(isEchoHeader("x-echoa")).toBe(false);
    expect(isEchoHeader("content-type")).toBe(false);
  });
  it("patternBytes wraps at 256", () => {
    const b = patternBytes(258);
    expect([b[0], b[255], b[256], b[257]]).toEqual([0, 255, 0, 1]);
  });
});
