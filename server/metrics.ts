/**
 * Prometheus metrics of one gateway, in its own Registry (several gateways in one process
 * do not collide).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { errorCodeName } from "../protocol/index.js";

/** Distinct `method` label values kept under allowed services before new ones are folded into "other". */
const MAX_METHOD_LABELS = 1000;

/** The error code names of the protocol (0x0..0x10), the only codes a label may name. */
const CODE_NAMES = new Set(Array.from({ length: 0x11 }, (_, i) => errorCodeName(i)).filter((n) => !n.startsWith("UNKNOWN")));

/**
 * A `status` label from a closed set: a protocol code name (optionally `client_`), a gRPC
 * status 0..16, an HTTP status 100..599 or `socket_lost`; anything else is "unknown"
 * (clients and backends choose codes, so their values must not become labels).
 */
export function statusLabel(outcome: string): string {
  if (CODE_NAMES.has(outcome) || outcome === "socket_lost") return outcome;
  if (outcome.startsWith("client_")) return CODE_NAMES.has(outcome.slice(7)) ? outcome : "client_unknown";
  if (/^(?:[0-9]|1[0-6])$/.test(outcome) || /^[1-5][0-9][0-9]$/.test(outcome)) return outcome;
  return "unknown";
}

/** Which `method` labels exist: the descriptors' methods, else methods of the allowed services. */
export interface MethodLabels {
  /** `/pkg.Service/Method` paths from the descriptors. */
  methods?: ReadonlySet<string>;
  /** Allowed `pkg.Service` names (used when there are no descriptors). */
  services?: readonly string[];
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly sockets = new Gauge({ name: "swtunnel_sockets", help: "Open tunnel sockets", registers: [this.registry] });
  readonly socketsTotal = new Counter({ name: "swtunnel_sockets_total", help: "Tunnel sockets accepted", registers: [this.registry] });
  readonly upgradesRejected = new Counter({
    name: "swtunnel_upgrades_rejected_total",
    help: "WebSocket upgrades refused, by HTTP status",
    labelNames: ["status"],
    registers: [this.registry],
  });
  readonly streamsActive = new Gauge({ name: "swtunnel_streams_active", help: "Open tunnel streams", registers: [this.registry] });
  readonly streamsTotal = new Counter({ name: "swtunnel_streams_total", help: "Tunnel streams opened", registers: [this.registry] });
  /**
   * Frames and bytes are counted per frame, so they are plain numbers here, handed to
   * prom-client at scrape time (`collect`): its `inc` hashes a label object per call.
   */
  private readonly pending = { framesIn: new Map<string, number>(), framesOut: new Map<string, number>(), bytesIn: 0, bytesOut: 0 };
  readonly bytes = new Counter({
    name: "swtunnel_bytes_total",
    help: "Tunnel frame bytes, by direction (in = from clients)",
    labelNames: ["direction"],
    registers: [this.registry],
    collect: () => this.flushCounts(),
  });
  readonly frames = new Counter({
    name: "swtunnel_frames_total",
    help: "Tunnel frames, by kind and direction",
    labelNames: ["kind", "direction"],
    registers: [this.registry],
    collect: () => this.flushCounts(),
  });
  readonly errors = new Counter({
    name: "swtunnel_errors_total",
    help: "RST_STREAM and GOAWAY sent for errors, and refused upgrades, by code",
    labelNames: ["code"],
    registers: [this.registry],
  });
  readonly upstreamSessions = new Gauge({
    name: "swtunnel_upstream_sessions",
    help: "Open HTTP/2 sessions to the upstream",
    registers: [this.registry],
  });
  readonly callDuration = new Histogram({
    name: "swtunnel_call_duration_seconds",
    help: "Duration of tunnel streams, by method and status",
    labelNames: ["method", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly seen = new Set<string>();

  constructor(private readonly labels: MethodLabels = {}) {}

  /**
   * A `method` label from a closed set: a method the descriptors describe, else one under
   * an allowed service (at most 1000), else "other". Clients choose paths; junk ones must
   * neither add labels nor push real methods out.
   */
  methodLabel(path: string): string {
    const method = path.split("?")[0]!;
    if (this.labels.methods) return this.labels.methods.has(method) ? method : "other";
    const service = /^\/([^/]+)\/[^/]+$/.exec(method)?.[1];
    if (!service || !this.labels.services?.includes(service)) return "other";
    if (this.seen.has(method)) return method;
    if (this.seen.size >= MAX_METHOD_LABELS) return "other";
    this.seen.add(method);
    return method;
  }

  /** Records one finished stream with closed-set labels. */
  observeCall(path: string, outcome: string, seconds: number): void {
    this.callDuration.observe({ method: this.methodLabel(path), status: statusLabel(outcome) }, seconds);
  }

  /** Counts one frame of `kind` (a frame kind, or "invalid"; a closed set) in `direction`, and its bytes. */
  frame(kind: string, direction: "in" | "out", bytes = 0): void {
    const counts = direction === "in" ? this.pending.framesIn : this.pending.framesOut;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    if (bytes > 0) this.countBytes(direction, bytes);
  }

  /** Counts tunnel bytes in `direction`. */
  countBytes(direction: "in" | "out", bytes: number): void {
    if (direction === "in") this.pending.bytesIn += bytes;
    else this.pending.bytesOut += bytes;
  }

  /** Hands the counts since the last scrape to prom-client. */
  private flushCounts(): void {
    const p = this.pending;
    for (const [direction, counts] of [
      ["in", p.framesIn],
      ["out", p.framesOut],
    ] as const) {
      for (const [kind, n] of counts) if (n > 0) this.frames.inc({ kind, direction }, n);
      counts.clear();
    }
    if (p.bytesIn > 0) this.bytes.inc({ direction: "in" }, p.bytesIn);
    if (p.bytesOut > 0) this.bytes.inc({ direction: "out" }, p.bytesOut);
    p.bytesIn = 0;
    p.bytesOut = 0;
  }
}
