/**
 * One MessagePort to the worker shared by all of a transport's calls, multiplexed by call
 * id. Opened lazily; a new call joins it only while calls run on it and the worker's
 * heartbeat is fresh. Otherwise the port is retired (running calls finish on it) and the
 * call opens a fresh one through the page's controller: a message to the controller
 * starts a stopped worker, a message on an old port reaches nobody, so a call made right
 * after the browser stopped the worker is neither lost nor sent twice. Also retired when
 * the worker said `idle` or the page's controller changed; torn down (its calls fail with
 * `unavailable`) when the worker stops answering while calls run, or at once when the
 * Web Lock the worker holds for the port (`locked`) is granted to the page.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { PORT_DEAD_AFTER_MS, PORT_HEARTBEAT_MS, parseWorkerMessage, type PageMessage, type WorkerMessage } from "../port/messages.js";
import type { PortLike } from "../port/port-like.js";

/** What a call registers on a link: its messages, and the link's death. */
export interface CallHandler {
  message(msg: Exclude<WorkerMessage, { type: "alive" } | { type: "idle" } | { type: "locked" }>): void;
  fail(error: ConnectError): void;
}

/** One open port and the calls on it. */
export class PortLink {
  private readonly calls = new Map<number, CallHandler>();
  private nextId = 1;
  private lastSeen = Date.now();
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lockWatch: AbortController | undefined;
  /** No new calls go here (the worker said idle, or the controller changed). */
  retired = false;
  dead = false;

  constructor(
    readonly port: PortLike,
    private readonly deadAfterMs: number,
    private readonly onClosed: (link: PortLink) => void,
  ) {
    port.addEventListener("message", (event: MessageEvent) => this.receive(event.data));
    port.start?.();
  }

  /** True if a new call may use this port. */
  get reusable(): boolean {
    if (this.retired || this.dead) return false;
    // Between calls the worker may have been stopped, and a port never wakes it; while
    // calls run, its heartbeat (every PORT_HEARTBEAT_MS) says it is there.
    return this.calls.size > 0 && Date.now() - this.lastSeen < 2 * PORT_HEARTBEAT_MS;
  }

  get callCount(): number {
    return this.calls.size;
  }

  /** Registers a call; returns its id. */
  add(handler: CallHandler): number {
    const id = this.nextId++;
    this.calls.set(id, handler);
    if (this.calls.size === 1) {
      this.lastSeen = Date.now(); // the silence clock starts with the first call
      this.watchdog = setInterval(() => this.check(), Math.max(50, Math.floor(this.deadAfterMs / 4)));
    }
    return id;
  }

  /** Unregisters a call that ended; closes a retired port once it has no calls. */
  remove(id: number): void {
    if (!this.calls.delete(id) || this.calls.size > 0) return;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    if (this.retired) this.close();
  }

  post(message: PageMessage, transfer: Transferable[] = []): void {
    this.port.postMessage(message, transfer);
  }

  /** No new calls here; the port closes when its last call ends. */
  retire(): void {
    this.retired = true;
    if (this.calls.size === 0) this.close();
  }

  /** Fails every call on the port and closes it. */
  kill(error: ConnectError): void {
    if (this.dead) return;
    this.dead = true;
    clearInterval(this.watchdog);
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.fail(error);
    this.close();
  }

  private close(): void {
    this.dead = true;
    this.lockWatch?.abort();
    try {
      this.port.close();
    } catch {
      // Already closed.
    }
    this.onClosed(this);
  }

  /**
   * Queues for the Web Lock the worker holds while it serves this port: it is granted
   * when the worker let go (idle: no calls left) or was stopped by the browser, which
   * would otherwise show only as silence until the watchdog.
   */
  private watchLock(name: string): void {
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    if (!locks || this.lockWatch) return;
    this.lockWatch = new AbortController();
    void locks
      .request(name, { signal: this.lockWatch.signal }, () => {
        if (this.calls.size === 0) this.retire();
        else this.kill(new ConnectError("swtunnel: the service worker was stopped; the call was lost, retry it", Code.Unavailable));
      })
      .catch(() => {});
  }

  private check(): void {
    if (Date.now() - this.lastSeen <= this.deadAfterMs) return;
    // A stopped worker closes its end silently; without this the calls would hang.
    this.kill(
      new ConnectError(
        `swtunnel: the service worker stopped answering for ${this.deadAfterMs} ms; the call was lost, retry it`,
        Code.Unavailable,
      ),
    );
  }

  private receive(data: unknown): void {
    this.lastSeen = Date.now();
    const msg = parseWorkerMessage(data);
    if (!msg || msg.type === "alive") return;
    if (msg.type === "idle") {
      this.retire();
      return;
    }
    if (msg.type === "locked") {
      this.watchLock(msg.name);
      return;
    }
    this.calls.get(msg.id)?.message(msg);
  }
}

/** Options of {@link PortMux}. */
export interface PortMuxOptions {
  openPort: () => Promise<PortLike>;
  deadAfterMs?: number;
  /** Subscribes to "the page's worker changed" (default transport: controllerchange). */
  onWorkerChange?: (listener: () => void) => void;
}

/** Hands out the current shared link, opening one when there is none. */
export class PortMux {
  private current: PortLink | undefined;
  private opening: Promise<PortLink> | undefined;
  private readonly deadAfterMs: number;
  private generation = 0;
  /** Ports opened so far (for tests and diagnostics). */
  opened = 0;

  constructor(private readonly options: PortMuxOptions) {
    this.deadAfterMs = options.deadAfterMs ?? PORT_DEAD_AFTER_MS;
    options.onWorkerChange?.(() => {
      this.generation++;
      this.current?.retire();
      this.current = undefined;
      this.opening = undefined;
    });
  }

  /** The link a new call should use. */
  async link(): Promise<PortLink> {
    if (this.current?.reusable) return this.current;
    if (this.current) {
      this.current.retire();
      this.current = undefined;
    }
    // Concurrent first calls share one opening port.
    const generation = this.generation;
    this.opening ??= this.options.openPort().then(
      (port) => {
        this.opened++;
        const link = new PortLink(port, this.deadAfterMs, (l) => {
          if (this.current === l) this.current = undefined;
        });
        // A port opened to a worker that was replaced meanwhile serves only its waiters.
        if (generation !== this.generation) return link;
        this.current = link;
        this.opening = undefined;
        return link;
      },
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }
}
