/**
 * `registerTunnel`: registers the swtunnel worker (idempotently), resolves once this page
 * is controlled by it — the first visit included — and reports its status. Also installs
 * the fetch fast path (fetch.ts) unless told not to.
 */
import { CLAIM_MESSAGE, KEEPALIVE_MESSAGE, PING_MESSAGE } from "../port/messages.js";
import { STATUS_CHANNEL, type StatusMessage, type TunnelCounters, type WorkerTunnelStatus } from "../port/status.js";
import { interceptFetch } from "./fetch.js";
import { workerForPage } from "./worker-port.js";

/** Options of {@link registerTunnel}. */
export interface RegisterTunnelOptions {
  /** URL of the worker script, i.e. where the app serves `swtunnel/sw.js`. Default "/sw.js". */
  scriptUrl?: string;
  /** Registration scope; default: the script's directory. */
  scope?: string;
  /** Gateway WebSocket URL; default: the worker's origin + /tunnel. */
  gateway?: string;
  /** URL prefixes whose Connect / gRPC-Web calls are carried; default: same-origin calls. */
  match?: string[];
  /** When the gateway cannot be reached: "network" (default) or "error". */
  fallback?: "network" | "error";
  /**
   * Keep the worker alive while calls are open (default true): the worker announces its
   * calls in flight every few seconds and this page answers with a message, since a
   * browser stops a worker ~30 s after the last event from a page, Firefox even in the
   * middle of a streamed response. Costs one message each way per 5 s, only while calls
   * run, in visible and hidden tabs alike (no page timer).
   */
  keepAlive?: boolean;
  /**
   * Also ping the worker every `keepAliveMs` while the page is visible, calls or not
   * (keeps the tunnel socket warm between calls). Default: off.
   */
  keepAliveMs?: number;
  /** Called on every status message. */
  onStatus?: (status: StatusMessage) => void;
  /** How long to wait for the worker to control the page; default 15 s. */
  controlTimeoutMs?: number;
  /**
   * Route this page's own `fetch` calls to the worker over the page's MessagePort
   * (default true): `globalThis.fetch` becomes {@link tunnelFetch}, which skips the
   * browser's fetch and the worker's fetch event for the calls the worker carries (same
   * Response, errors and fallback) and sends every other request to the original
   * `fetch`. `false` leaves `globalThis.fetch` alone (and puts it back if an earlier
   * `registerTunnel()` replaced it); the worker's fetch handler then carries the calls.
   */
  interceptFetch?: boolean;
}

/** The "status" event of a {@link TunnelHandle}. */
export class TunnelStatusEvent extends Event {
  constructor(readonly detail: StatusMessage) {
    super("status");
  }
}

/** A registered tunnel: status events ("status"), counters, stats, unregister. */
export class TunnelHandle extends EventTarget {
  /** Last known status: idle, connected, reconnecting or fallback. */
  status: WorkerTunnelStatus = "idle";
  /** Last known counters of the worker. */
  counters: TunnelCounters = { carried: 0, failed: 0, fallbacks: 0, active: 0, portCalls: 0 };
  private channel: BroadcastChannel | undefined;
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private onVisibility: (() => void) | undefined;
  private lastKeepAlive = 0;

  constructor(
    /** The worker's registration. */
    readonly registration: ServiceWorkerRegistration,
    private readonly onStatus?: (status: StatusMessage) => void,
    /** Answer the worker's heartbeat while it has calls in flight (see {@link RegisterTunnelOptions.keepAlive}). */
    private readonly keepCallsAlive = true,
  ) {
    super();
    if (typeof BroadcastChannel !== "undefined") {
      this.channel = new BroadcastChannel(STATUS_CHANNEL);
      this.channel.onmessage = (e) => this.update(e.data as StatusMessage);
    }
  }

  /** Asks the worker for its status and counters now (also keeps it alive). */
  async stats(timeoutMs = 5_000): Promise<StatusMessage> {
    const worker = await workerForPage();
    const channel = new MessageChannel();
    const reply = new Promise<StatusMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`swtunnel: the worker did not answer a status ping within ${timeoutMs} ms`)),
        timeoutMs,
      );
      channel.port1.onmessage = (e) => {
        clearTimeout(timer);
        channel.port1.close();
        resolve(e.data as StatusMessage);
      };
    });
    worker.postMessage({ type: PING_MESSAGE }, [channel.port2]);
    const status = await reply;
    this.update(status);
    return status;
  }

  /** Pings the worker every `intervalMs` while the page is visible. */
  startKeepAlive(intervalMs: number): void {
    this.stopKeepAlive();
    const tick = () => {
      if (document.visibilityState === "visible") void this.stats().catch(() => {});
    };
    this.keepAliveTimer = setInterval(tick, intervalMs);
    this.onVisibility = tick;
    document.addEventListener("visibilitychange", tick);
  }

  stopKeepAlive(): void {
    clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    if (this.onVisibility) document.removeEventListener("visibilitychange", this.onVisibility);
    this.onVisibility = undefined;
  }

  // A page event resets the browser's idle clock of the worker; one per second is plenty.
  private answerHeartbeat(): void {
    const now = Date.now();
    if (now - this.lastKeepAlive < 1_000) return;
    this.lastKeepAlive = now;
    const worker = navigator.serviceWorker?.controller ?? this.registration.active;
    try {
      worker?.postMessage({ type: KEEPALIVE_MESSAGE });
    } catch {
      // The worker is being replaced; the new one announces its own calls.
    }
  }

  /** Stops listening and puts the original `globalThis.fetch` back; the worker stays registered. */
  close(): void {
    interceptFetch(false);
    this.stopKeepAlive();
    this.channel?.close();
    this.channel = undefined;
  }

  /** Unregisters the worker (pages keep working without it after a reload). */
  async unregister(): Promise<boolean> {
    this.close();
    return this.registration.unregister();
  }

  private update(message: StatusMessage): void {
    if (message?.type !== "swtunnel.status") return;
    if (this.keepCallsAlive && message.counters.active > 0) this.answerHeartbeat();
    this.status = message.status;
    this.counters = message.counters;
    this.onStatus?.(message);
    this.dispatchEvent(new TunnelStatusEvent(message));
  }
}

/** The worker script URL with the configuration in its query string (read by sw.js). */
export function workerScriptUrl(options: RegisterTunnelOptions, base: string): string {
  const url = new URL(options.scriptUrl ?? "/sw.js", base);
  if (options.gateway) url.searchParams.set("gateway", new URL(options.gateway, base).href);
  for (const m of options.match ?? []) url.searchParams.append("match", new URL(m, base).href);
  if (options.fallback) url.searchParams.set("fallback", options.fallback);
  return url.href;
}

/**
 * Registers the worker and resolves once it controls this page. Registering the same
 * script URL again is a no-op; a different configuration (query string) replaces the
 * worker, which then takes over open pages.
 */
export async function registerTunnel(options: RegisterTunnelOptions = {}): Promise<TunnelHandle> {
  const container = navigator.serviceWorker;
  if (!container) throw new Error("swtunnel: Service Workers are unavailable (they need a secure context: https or localhost)");
  const scriptUrl = workerScriptUrl(options, location.href);
  const controlled = () => container.controller?.scriptURL === scriptUrl;
  // Listen before registering so a quick claim is not missed.
  const control = new Promise<void>((resolve, reject) => {
    if (controlled()) return resolve();
    const timeoutMs = options.controlTimeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      container.removeEventListener("controllerchange", check);
      reject(new Error(`swtunnel: the worker ${scriptUrl} did not take control of this page within ${timeoutMs} ms`));
    }, timeoutMs);
    function check() {
      if (!controlled()) return;
      clearTimeout(timer);
      container.removeEventListener("controllerchange", check);
      resolve();
    }
    container.addEventListener("controllerchange", check);
  });
  const registration = await container.register(scriptUrl, options.scope ? { scope: options.scope } : undefined);
  // An already active worker does not claim again by itself (e.g. after a hard reload).
  if (!controlled()) {
    void container.ready.then((reg) => {
      if (!controlled() && reg.active?.scriptURL === scriptUrl) reg.active.postMessage({ type: CLAIM_MESSAGE });
    });
  }
  await control;
  interceptFetch(options.interceptFetch ?? true, scriptUrl);
  const handle = new TunnelHandle(registration, options.onStatus, options.keepAlive ?? true);
  if (options.keepAliveMs !== undefined) handle.startKeepAlive(options.keepAliveMs);
  return handle;
}
