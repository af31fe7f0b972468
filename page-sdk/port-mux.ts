/**
 * One MessagePort to the worker shared by all of a transport's calls, multiplexed by call
 * id. Opened lazily; a new call joins it while calls run on it and the worker's
 * heartbeat is fresh, or while it is idle but the worker still holds its Web Lock
 * (`locked` seen, not granted to the page, no `idle`), for at most PORT_MAX_AGE_MS. Such
 * a call's `start` asks for `accepted`; if the lock is then granted before it, the call
 * never reached a worker and is resent on a fresh port (when `start` held its whole
 * body). Otherwise the port is retired (running calls finish on it) and the
 * call opens a fresh one through the page's controller: a message to the controller
 * starts a stopped worker, a message on an old port reaches nobody, so a call made right
 * after the browser stopped the worker is neither lost nor sent twice. Also retired when
 * the worker said `idle` or the page's controller changed; torn down (its calls fail with
 * `unavailable`) when the worker stops answering while calls run, or at once when the
 * Web Lock the worker holds for the port (`locked`) is granted to the page.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  PORT_DEAD_AFTER_MS,
  PORT_HEARTBEAT_MS,
  PORT_LINGER_MS,
  PORT_MAX_AGE_MS,
  parseWorkerMessage,
  type PageMessage,
  type StartMessage,
  type WorkerMessage,
} from "../port/messages.js";

/**
 * A granted lock is acted on this long later, so messages the worker posted before it let
 * go (`idle`, `accepted`) arrive first: they travel apart from the lock grant.
 */
const LOCK_GRACE_MS = 20;
/** An idle port is reused only this long after its last call, well inside the worker's linger. */
const IDLE_REUSE_MS = PORT_LINGER_MS - 1_000;
import type { PortLike } from "../port/port-like.js";

/** What a call registers on a link: its messages, and the link's death. */
export interface CallHandler {
  message(msg: Exclude<WorkerMessage, { type: "alive" } | { type: "idle" } | { type: "locked" } | { type: "accepted" }>): void;
  fail(error: ConnectError): void;
  /**
   * The worker is gone and never accepted this call's `start` (which held the whole
   * body): send it again on a fresh port. Without it the call fails instead.
   */
  resend?(start: StartMessage): void;
}

/** One open port and the calls on it. */
export class PortLink {
  private readonly calls = new Map<number, CallHandler>();
  private nextId = 1;
  private lastSeen = Date.now();
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lockWatch: AbortController | undefined;
  private readonly openedAt = Date.now();
  private idleSince = Date.now();
  /** The worker said `locked`; its lock was not granted to the page yet. */
  private lockHeld = false;
  private idleSeen = false;
  /** Calls whose `start` must carry `ack` (posted with no call accepted on the port). */
  private readonly wantAck = new Set<number>();
  /** `start`s sent with `ack` and not yet accepted (their bodies kept, untransferred). */
  private readonly unaccepted = new Map<number, StartMessage>();
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
    const now = Date.now();
    if (now - this.openedAt >= PORT_MAX_AGE_MS) return false;
    // While calls run, the worker's heartbeat (every PORT_HEARTBEAT_MS) says it is there.
    if (this.calls.size > 0) return now - this.lastSeen < 2 * PORT_HEARTBEAT_MS;
    // Between calls the worker may have been stopped, and a port never wakes it: reuse
    // it only while its lock tells (a stop grants it to the page, and the call is resent).
    return this.lockHeld && !this.idleSeen && now - this.idleSince < IDLE_REUSE_MS;
  }

  get callCount(): number {
    return this.calls.size;
  }

  /** Registers a call; returns its id. */
  add(handler: CallHandler): number {
    const id = this.nextId++;
    if (this.calls.size === 0 || this.unaccepted.size > 0) this.wantAck.add(id);
    this.calls.set(id, handler);
    if (this.calls.size === 1) {
      this.lastSeen = Date.now(); // the silence clock starts with the first call
      this.watchdog = setInterval(() => this.check(), Math.max(50, Math.floor(this.deadAfterMs / 4)));
    }
    return id;
  }

  /** Unregisters a call that ended; closes a retired port once it has no calls. */
  remove(id: number): void {
    this.wantAck.delete(id);
    this.unaccepted.delete(id);
    if (!this.calls.delete(id) || this.calls.size > 0) return;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.idleSince = Date.now();
    if (this.retired) this.close();
  }

  post(message: PageMessage, transfer: Transferable[] = []): void {
    if (message.type === "start" && this.wantAck.delete(message.id)) {
      const start: StartMessage = { ...message, ack: true };
      this.unaccepted.set(message.id, start);
      this.port.postMessage(start, []); // copied, not transferred: a resend needs the body
      return;
    }
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
    this.lockHeld = true;
    void locks
      .request(name, { signal: this.lockWatch.signal }, async () => {
        this.lockHeld = false;
        await new Promise((r) => setTimeout(r, LOCK_GRACE_MS));
        this.granted();
      })
      .catch(() => {});
  }

  /** The worker let go of the port's lock: at idle (a normal release) or stopped. */
  private granted(): void {
    if (this.dead) return;
    if (this.idleSeen || this.calls.size === 0) {
      this.retire(); // calls that raced with `idle` finish here, under the watchdog
      return;
    }
    this.dead = true;
    clearInterval(this.watchdog);
    const calls = [...this.calls];
    this.calls.clear();
    const lost = new ConnectError("swtunnel: the service worker was stopped; the call was lost, retry it", Code.Unavailable);
    for (const [id, call] of calls) {
      const start = this.unaccepted.get(id);
      // Never accepted, body complete in `start`: it provably reached no worker.
      if (start && call.resend && (start.end || !start.hasBody)) call.resend(start);
      else call.fail(lost);
    }
    this.close();
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
    if (msg.type === "accepted") {
      this.unaccepted.delete(msg.id);
      return;
    }
    if (msg.type === "idle") {
      this.idleSeen = true;
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
