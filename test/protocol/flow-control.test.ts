import { describe, expect, it } from "vitest";
import { ErrorCode, MAX_WINDOW, ReceiveWindow, SendWindow } from "../../protocol/index.js";
import { expectProtocolError } from "./helpers.js";

describe("SendWindow", () => {
  it("spends and regains credit", () => {
    const w = new SendWindow(100);
    expect(w.size).toBe(100);
    w.consume(60);
    expect(w.size).toBe(40);
    w.consume(40);
    expect(w.size).toBe(0);
    w.credit(25);
    expect(w.size).toBe(25);
  });

  it("refuses to spend credit it does not have (INTERNAL_ERROR: a local bug)", () => {
    const w = new SendWindow(10);
    expectProtocolError(() => w.consume(11), ErrorCode.INTERNAL_ERROR);
    expect(w.size).toBe(10);
  });

  it("accepts credit up to exactly 2^31-1", () => {
    const w = new SendWindow(0);
    w.credit(MAX_WINDOW);
    expect(w.size).toBe(MAX_WINDOW);
  });

  it("a credit past 2^31-1 is FLOW_CONTROL_ERROR with the stream id, and leaves the window alone", () => {
    const w = new SendWindow(MAX_WINDOW - 5);
    expectProtocolError(() => w.credit(6, 9), ErrorCode.FLOW_CONTROL_ERROR, 9);
    expect(w.size).toBe(MAX_WINDOW - 5);
    expectProtocolError(() => w.credit(MAX_WINDOW), ErrorCode.FLOW_CONTROL_ERROR, 0);
    w.credit(5);
    expect(w.size).toBe(MAX_WINDOW);
  });
});

describe("ReceiveWindow", () => {
  it("counts received bytes against the window", () => {
    const w = new ReceiveWindow(100);
    w.receive(30);
    w.receive(70);
    expect(w.size).toBe(0);
    w.receive(0);
  });

  it("an overrun is FLOW_CONTROL_ERROR with the stream id, and leaves the window alone", () => {
    const w = new ReceiveWindow(100);
    w.receive(90);
    expectProtocolError(() => w.receive(11, 3), ErrorCode.FLOW_CONTROL_ERROR, 3);
    expect(w.size).toBe(10);
    expectProtocolError(() => new ReceiveWindow(0).receive(1), ErrorCode.FLOW_CONTROL_ERROR, 0);
  });

  it("releases credit only once half the initial window (default threshold) was consumed", () => {
    const w = new ReceiveWindow(100);
    w.receive(100);
    expect(w.release(20)).toBe(0);
    expect(w.release(29)).toBe(0);
    expect(w.size).toBe(0);
    expect(w.release(1)).toBe(50);
    expect(w.size).toBe(50);
    expect(w.release(49)).toBe(0);
    expect(w.release(1)).toBe(50);
    expect(w.size).toBe(100);
  });

  it("honours a custom threshold and releases everything consumed so far in one increment", () => {
    const w = new ReceiveWindow(1000, 10);
    w.receive(500);
    expect(w.release(9)).toBe(0);
    expect(w.release(300)).toBe(309);
    expect(w.size).toBe(809);
  });

  it("uses a threshold of at least 1 for tiny windows", () => {
    const w = new ReceiveWindow(1);
    w.receive(1);
    expect(w.release(1)).toBe(1);
    expect(w.size).toBe(1);
  });

  it("lets a peer that follows the WINDOW_UPDATEs send forever without overrun", () => {
    const recv = new ReceiveWindow(64);
    const send = new SendWindow(64);
    let total = 0;
    for (let i = 0; i < 1000; i++) {
      const n = Math.min(send.size, 7);
      expect(n).toBeGreaterThan(0);
      send.consume(n);
      recv.receive(n);
      total += n;
      const inc = recv.release(n);
      if (inc > 0) send.credit(inc);
      expect(send.size).toBe(recv.size);
    }
    expect(total).toBe(7000);
  });
});
