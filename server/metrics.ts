/**
 * Prometheus metrics of one gateway, in its own Registry (several gateways in one process
 * do not collide).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Distinct `method` label values kept before new ones are folded into "other". */
const MAX_METHOD_LABELS = 1000;

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
  readonly bytes = new Counter({
    name: "swtunnel_bytes_total",
    help: "Tunnel frame bytes, by direction (in = from clients)",
    labelNames: ["direction"],
    registers: [this.registry],
  });
  readonly frames = new Counter({
    name: "swtunnel_frames_total",
    help: "Tunnel frames, by kind and direction",
    labelNames: ["kind", "direction"],
    registers: [this.registry],
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
  private readonly methods = new Set<string>();

  /** A bounded `method` label: clients choose paths, so cardinality must be capped. */
  methodLabel(path: string): string {
    const method = path.split("?")[0]!;
    if (this.methods.has(method)) return method;
    if (this.methods.size >= MAX_METHOD_LABELS) return "other";
    this.methods.add(method);
    return method;
  }
}
