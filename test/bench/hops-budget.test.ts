/**
 * The per-hop budget's arithmetic (bench/hops-budget.ts): points in the order a call
 * passes them, the gateway's clock aligned per call from the two frame pairs, medians.
 */
import { describe, expect, it } from "vitest";
import { hopBudget, hopTable, median } from "../../bench/hops-budget.js";

/** Marks of calls starting at `starts`, the gateway's clock `offset` µs ahead of the browser's. */
function marks(starts: number[], offset: number) {
  const at = (d: number) => starts.map((s) => s + d);
  const page = { "p.call": at(0), "p.post": at(100), "p.done": at(1000) };
  const worker = { "w.in": at(150), "w.out.first": at(200), "w.in.last": at(900), "w.post": at(950) };
  // 50 µs on the wire each way.
  const gateway = { "g.in.first": at(250 + offset), "g.up.resp": at(600 + offset), "g.out.last": at(850 + offset) };
  return { page, worker, gateway };
}

describe("hopBudget", () => {
  it("aligns the gateway's clock per call and lists the points in the order a call passes them", () => {
    const { page, worker, gateway } = marks([1_000, 5_000, 9_000], 123_456_789);
    const budget = hopBudget(page, worker, gateway);
    expect(budget.calls).toBe(3);
    expect(budget.skipped).toEqual([]);
    expect(budget.alignmentBoundUs).toBe(50); // half of 100 µs on the wire
    expect(budget.rows.map((r) => [r.point, r.atUs, r.deltaUs])).toEqual([
      ["p.call", 0, 0],
      ["p.post", 100, 100],
      ["w.in", 150, 50],
      ["w.out.first", 200, 50],
      ["g.in.first", 250, 50],
      ["g.up.resp", 600, 350],
      ["g.out.last", 850, 250],
      ["w.in.last", 900, 50],
      ["w.post", 950, 50],
      ["p.done", 1000, 50],
    ]);
    expect(hopTable(budget)).toContain("| `g.up.resp` | gateway: upstream response head received | 600 | 350 |");
  });

  it("bounds the alignment's error by half the time on the wire", () => {
    const { page, worker, gateway } = marks([0], 0);
    gateway["g.in.first"] = [350]; // 150 µs up, 50 µs down: the split is unknowable, the sum is not
    expect(hopBudget(page, worker, gateway).alignmentBoundUs).toBe(100);
  });

  it("leaves out a point that did not fire once per call, and gateway points when no pair aligns them", () => {
    const { page, worker, gateway } = marks([0, 10_000], 7);
    worker["w.post"] = [950];
    const { "g.in.first": _dropped, ...rest } = gateway;
    const budget = hopBudget(page, worker, rest);
    expect(budget.rows.map((r) => r.point)).toEqual(["p.call", "p.post", "w.in", "w.out.first", "w.in.last", "p.done"]);
    expect(budget.skipped).toEqual([
      "w.post (1 marks for 2 calls)",
      "g.up.resp (no clock alignment: a HEADERS or last-frame mark is missing)",
      "g.out.last (no clock alignment: a HEADERS or last-frame mark is missing)",
    ]);
  });

  it("needs the page's call marks", () => {
    expect(() => hopBudget({}, {}, {})).toThrow(/no p.call marks/);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
