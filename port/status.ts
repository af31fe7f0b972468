/**
 * What the worker publishes about its tunnels to every page of the scope, on a
 * BroadcastChannel: status names, counters and the message shape both ends share.
 */

/** Name of the BroadcastChannel the worker publishes status on. */
export const STATUS_CHANNEL = "swtunnel.status";

/**
 * While calls are in flight the worker republishes its status this often, and every page
 * with a tunnel handle answers with a keep-alive message: browsers stop a worker ~30 s
 * after the last event from a page (Firefox even in the middle of a streamed response).
 */
export const STATUS_HEARTBEAT_MS = 5_000;

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
