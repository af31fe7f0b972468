// The worker's per-port Web Lock (port-server.ts posts `locked`, port-mux.ts queues for
// it): granted to the page with calls in flight means the worker is gone. Node's own
// navigator.locks and MessageChannel stand in for the browser's.
import { MessageChannel } from "node:worker_threads";
import type { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { PortLink } from "../../page-sdk/port-mux.js";
import type { PortLike } from "../../port/port-like.js";
import { TunnelPool } from "../../sw/pool.js";
import { servePort } from "../../sw/port-server.js";
import { StatusHub } from "../../sw/status.js";
import { fakeClient, response } from "../sw/fake-client.js";

/**
 * Node 22 has no navigator.locks (Node 24 does): there, a minimal exclusive LockManager
 * (FIFO per name, AbortSignal, query) stands in, installed only when Node lacks one.
 */
class TestLocks {
  private readonly holding = new Set<string>();
  private readonly queues = new Map<string, Array<() => void>>();
  async request(name: string, a: unknown, b?: unknown): Promise<unknown> {
    const callback = (typeof a === "function" ? a : b) as (lock: { name: string }) => unknown;
    const signal = typeof a === "function" ? undefined : (a as { signal?: AbortSignal } | undefined)?.signal;
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        this.holding.add(name);
        resolve();
      };
      if (!this.holding.has(name)) return go();
      const queue = this.queues.get(name) ?? [];
      queue.push(go);
      this.queues.set(name, queue);
      signal?.addEventListener("abort", () => {
        const i = queue.indexOf(go);
        if (i >= 0) {
          queue.splice(i, 1);
          reject(signal.reason);
        }
      });
    });
    try {
      return await callback({ name });
    } finally {
      this.holding.delete(name);
      this.queues.get(name)?.shift()?.();
    }
  }
  async query(): Promise<{ held: Array<{ name: string }>; pending: Array<{ name: string }> }> {
    return {
      held: [...this.holding].map((name) => ({ name })),
      pending: [...this.queues].flatMap(([name, queue]) => queue.map(() => ({ name }))),
    };
  }
}
if (!(navigator as { locks?: unknown }).locks) Object.defineProperty(navigator, "locks", { value: new TestLocks(), configurable: true });

const held = async () => (await navigator.locks.query()).held?.map((l) => l.name) ?? [];

describe("per-port Web Lock", () => {
  it("the worker holds a lock while it serves a port, says its name, and lets go once idle", async () => {
    const hub = new StatusHub();
    const pool = new TunnelPool(() => fakeClient(() => response(200, [], [], [["grpc-status", "0"]])), hub);
    const { port1, port2 } = new MessageChannel();
    const fromWorker: Array<{ type: string; name?: string }> = [];
    port1.on("message", (m) => fromWorker.push(m));
    const idle = servePort(port2 as unknown as PortLike, {
      pool,
      hub,
      workerUrl: "https://app.test/sw.js",
      defaultGateway: "wss://app.test/tunnel",
      lingerMs: 10,
      locks: navigator.locks,
    });
    await expect.poll(() => fromWorker.find((m) => m.type === "locked")).toBeDefined();
    const name = fromWorker.find((m) => m.type === "locked")!.name!;
    expect(await held()).toContain(name);
    port1.postMessage({ type: "start", id: 1, method: "POST", path: "/x", headers: [], hasBody: false });
    await idle;
    await expect.poll(() => fromWorker.map((m) => m.type)).toEqual(["locked", "head", "idle"]);
    expect(await held()).not.toContain(name);
    port1.close();
  });

  it("the page fails the calls on a port at once when the worker's lock goes while they run", async () => {
    const { port1, port2 } = new MessageChannel();
    let release!: () => void;
    const name = `test.port.${Date.now()}`;
    await new Promise<void>((granted) => {
      void navigator.locks.request(name, () => {
        granted();
        return new Promise<void>((r) => (release = r));
      });
    });
    const link = new PortLink(port1 as unknown as PortLike, 60_000, () => {});
    const errors: ConnectError[] = [];
    link.add({ message() {}, fail: (e) => errors.push(e) });
    port2.postMessage({ type: "locked", name });
    await expect.poll(async () => (await navigator.locks.query()).pending?.some((l) => l.name === name)).toBe(true);
    expect(errors).toEqual([]);
    release(); // the browser stopped the worker
    await expect.poll(() => errors.map((e) => [e.code, e.rawMessage])).toEqual([[14, expect.stringMatching(/service worker was stopped/)]]);
    expect(link.dead).toBe(true);
    port2.close();
  });

  it("a lock granted with no call in flight only retires the port", async () => {
    const { port1, port2 } = new MessageChannel();
    const name = `test.port.idle.${Date.now()}`;
    const link = new PortLink(port1 as unknown as PortLike, 60_000, () => {});
    port2.postMessage({ type: "locked", name });
    await expect.poll(() => link.retired).toBe(true);
    port2.close();
  });
});
