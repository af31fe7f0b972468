/**
 * Status and counters of the worker's tunnels, published to every page of the scope on
 * a BroadcastChannel. Pure bookkeeping plus one `post` callback.
 */

/** Name of the BroadcastChannel the worker publishes status on. */
export const STATUS_CHANNEL = "swtunnel.status";

/** What a page sees: connected, reconnecting (socket down, retrying), fallback (calls bypass the tunnel), idle (no socket yet). */
export type WorkerTunnelStatus = "idle" | "connected" | "reconnecting" | "fallback";

/** Counters since the worker started. */
export interface TunnelCounters {
  /** Calls that went through the tunnel and got a response head. */
  carried: number;
  /** Calls that failed in the tunnel (the page got an error response). */
  failed: number;
  /** Calls that fell back to the network or to an error response because the gateway was unreachable. */
  fallbacks: number;
  /** Calls in flight now. */
  active: number;
  /** Calls served over MessagePorts (page SDK transport). */
  portCalls: number;
}

/** The message published on every change. */
export interface StatusMessage {
  type: "swtunnel.status";
  /** Status of the last gateway that changed (the worst when several). */
  status: WorkerTunnelStatus;
  /** Per gateway URL. */
  gateways: Record<string, WorkerTunnelStatus>;
  counters: TunnelCounters;
}

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

/** Keeps status and counters; calls `post` with a snapshot on each change. */
export class StatusHub {
  readonly counters: TunnelCounters = { carried: 0, failed: 0, fallbacks: 0, active: 0, portCalls: 0 };
  private readonly gateways = new Map<string, WorkerTunnelStatus>();

  constructor(private readonly post: (message: StatusMessage) => void = () => {}) {}

  setStatus(gateway: string, status: WorkerTunnelStatus): void {
    if (this.gateways.get(gateway) === status) return;
    this.gateways.set(gateway, status);
    this.publish();
  }

  count(counter: keyof TunnelCounters, delta = 1): void {
    this.counters[counter] += delta;
    this.publish();
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
