/**
 * Status and counters of the worker's tunnels, published to every page of the scope on
 * a BroadcastChannel. Pure bookkeeping plus one `post` callback.
 */
import { STATUS_CHANNEL, STATUS_HEARTBEAT_MS, type StatusMessage, type TunnelCounters, type WorkerTunnelStatus } from "../port/status.js";

export { STATUS_CHANNEL, STATUS_HEARTBEAT_MS, type StatusMessage, type TunnelCounters, type WorkerTunnelStatus };

/** Maps the tunnel client's status names onto the worker's. */
export function mapClientStatus(status: string): WorkerTunnelStatus {
  switch (status) {
    case "connected":
    case "open":
      return "connected";
    case "idle":
    case "closed":
      return "idle";
    default:
      // connecting, reconnecting, disconnected, draining...
      return "reconnecting";
  }
}

const RANK: Record<WorkerTunnelStatus, number> = { idle: 0, connected: 1, reconnecting: 2, fallback: 3 };

/**
 * Counter changes are published at most this often (status changes at once): a
 * BroadcastChannel message per call cost the worker ~200 µs between a call's HEADERS and
 * DATA frames, and every page of the scope the time to receive it (docs/DECISIONS.md).
 */
export const STATUS_COUNTS_DELAY_MS = 100;

/**
 * Keeps status and counters; calls `post` with a snapshot on each status change, at most
 * `countsDelayMs` after counter changes, and every `heartbeatMs` while calls are active
 * (pages answer it to keep the worker alive).
 */
export class StatusHub {
  readonly counters: TunnelCounters = { carried: 0, failed: 0, fallbacks: 0, active: 0, portCalls: 0 };
  private readonly gateways = new Map<string, WorkerTunnelStatus>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly post: (message: StatusMessage) => void = () => {},
    private readonly heartbeatMs = STATUS_HEARTBEAT_MS,
    private readonly countsDelayMs = STATUS_COUNTS_DELAY_MS,
  ) {}

  private countsTimer: ReturnType<typeof setTimeout> | undefined;

  setStatus(gateway: string, status: WorkerTunnelStatus): void {
    if (this.gateways.get(gateway) === status) return;
    this.gateways.set(gateway, status);
    this.publish();
  }

  count(counter: keyof TunnelCounters, delta = 1): void {
    this.counters[counter] += delta;
    if (counter === "active") this.beat();
    // One message for all the counter changes of the next countsDelayMs.
    this.countsTimer ??= setTimeout(() => {
      this.countsTimer = undefined;
      this.publish();
    }, this.countsDelayMs);
  }

  private beat(): void {
    if (this.counters.active > 0 && this.heartbeat === undefined) {
      this.heartbeat = setInterval(() => this.publish(), this.heartbeatMs);
    } else if (this.counters.active <= 0 && this.heartbeat !== undefined) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  snapshot(): StatusMessage {
    let status: WorkerTunnelStatus = "idle";
    for (const s of this.gateways.values()) if (RANK[s] > RANK[status]) status = s;
    return { type: "swtunnel.status", status, gateways: Object.fromEntries(this.gateways), counters: { ...this.counters } };
  }

  private scheduled = false;

  // Coalesced: a burst of calls posts one message, not two per call.
  private publish(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      // This snapshot carries the counters too.
      clearTimeout(this.countsTimer);
      this.countsTimer = undefined;
      try {
        this.post(this.snapshot());
      } catch {
        // A closed channel must not break a call.
      }
    });
  }
}

/** A `post` that publishes on the worker's BroadcastChannel, when the platform has one. */
export function broadcastPoster(): (message: StatusMessage) => void {
  if (typeof BroadcastChannel === "undefined") return () => {};
  const channel = new BroadcastChannel(STATUS_CHANNEL);
  return (message) => channel.postMessage(message);
}
