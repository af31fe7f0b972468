/**
 * Request/response over Node's IPC channel between the benchmark and the processes it
 * starts (backends, the gateway, the idle-socket clients), so each one's CPU time and
 * memory can be measured on its own.
 */
import { fork, type ChildProcess } from "node:child_process";

interface Envelope {
  id: number;
  op: string;
  body?: unknown;
  error?: string;
}

/** Handle on a benchmark child process. */
export interface Child {
  readonly process: ChildProcess;
  /** Sends `op` with `body`; resolves with the child's answer or rejects with its error. */
  request<T>(op: string, body?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop, kills it after a grace period, resolves once it exited. */
  stop(): Promise<void>;
}

/** Starts `script` (a compiled .js file) with Node's IPC channel. */
export function startChild(script: string, options: { execArgv?: string[]; args?: string[] } = {}): Child {
  const child = fork(script, options.args ?? [], {
    execArgv: options.execArgv ?? [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${script} exited (code ${code}, signal ${signal})`));
      pending.clear();
      resolve();
    });
  });
  child.on("message", (message: Envelope) => {
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.error !== undefined) p.reject(new Error(message.error));
    else p.resolve(message.body);
  });
  return {
    process: child,
    request<T>(op: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${script} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${script} did not answer "${op}" within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, op, body } satisfies Envelope);
      });
    },
    async stop() {
      if (exited) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      try {
        await this.request("stop", undefined, 5000);
      } catch {
        // it may exit before answering
      }
      child.disconnect?.();
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Child side: answers the parent's requests with `handlers`; "stop" runs `onStop` then exits. */
export function serveParent(handlers: Record<string, (body: unknown) => unknown>, onStop: () => Promise<void> | void): void {
  if (!process.send) throw new Error("this script runs as a benchmark child process (with an IPC channel), not on its own");
  process.on("message", (message: Envelope) => {
    void (async () => {
      try {
        if (message.op === "stop") {
          await onStop();
          process.send?.({ id: message.id, op: message.op, body: null });
          process.disconnect?.();
          setTimeout(() => process.exit(0), 50).unref();
          return;
        }
        const handler = handlers[message.op];
        if (!handler) throw new Error(`unknown op ${message.op}`);
        process.send?.({ id: message.id, op: message.op, body: await handler(message.body) });
      } catch (error) {
        process.send?.({ id: message.id, op: message.op, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    })();
  });
  process.on("disconnect", () => {
    void Promise.resolve(onStop()).finally(() => process.exit(0));
  });
}

/** CPU time and memory of the current process (for the "usage" op). */
export function processUsage(gc: boolean): { userUs: number; systemUs: number; rss: number; heapUsed: number } {
  if (gc) (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { userUs: cpu.user, systemUs: cpu.system, rss: mem.rss, heapUsed: mem.heapUsed };
}
