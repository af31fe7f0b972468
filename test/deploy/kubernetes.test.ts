/**
 * deploy/kubernetes/*.yaml: each object validated against the Kubernetes OpenAPI schemas
 * shipped by `kubernetes-models` (and the Prometheus Operator's CRD schema shipped by
 * `@kubernetes-models/prometheus-operator` for the ServiceMonitor), then the cross
 * references a schema cannot see: selectors, port names, probe paths, the drain timing,
 * the memory sizing, and the env vars against the real CLI parser.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseCli, usage } from "../../server/cli-args.js";
import { fromRoot } from "../../tools/paths.js";

const DIR = fromRoot("deploy/kubernetes");

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Manifest = any;

/** Every object in every YAML file of deploy/kubernetes except the kustomization. */
function manifests(): Array<{ file: string; object: Manifest }> {
  const out: Array<{ file: string; object: Manifest }> = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
      out.push({ file, object: doc.toJS() });
    }
  }
  return out;
}

const MODELS: Record<string, new (data: Manifest) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "v1/Service": Service,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/Ingress": Ingress,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
};

function one(kind: string): Manifest {
  const found = manifests().filter((m) => m.object.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!.object;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The largest "KiB RSS per socket" figure of docs/BENCHMARKS.md's memory table. */
function kibPerSocketFromBenchmarks(): number {
  const text = readFileSync(fromRoot("docs/BENCHMARKS.md"), "utf8");
  const section = text.split("## Memory per idle tunnel socket")[1]!.split("\n## ")[0]!;
  const figures = [...section.matchAll(/^\| \d+ \| ([\d.]+) /gm)].map((m) => Number(m[1]));
  expect(figures.length).toBeGreaterThan(0);
  return Math.max(...figures);
}

function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
}

describe("deploy/kubernetes", () => {
  it("every object is valid against its schema (the ServiceMonitor against the Prometheus Operator CRD)", () => {
    const all = manifests();
    expect(all.map((m) => m.object.kind).sort()).toEqual([
      "Deployment",
      "HorizontalPodAutoscaler",
      "Ingress",
      "PodDisruptionBudget",
      "Service",
      "ServiceMonitor",
    ]);
    for (const { file, object } of all) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${file}: no schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new Model!(object).validate(), file).not.toThrow();
    }
  });

  it("the validator rejects a broken manifest (so the check above can fail)", () => {
    const d = structuredClone(one("Deployment"));
    d.spec.replicas = "two";
    d.spec.template.spec.containers[0].readinessProbe.httpGet.port = { name: "admin" };
    expect(() => new Deployment(d).validate()).toThrow(/replicas must be integer/);
    const sm = structuredClone(one("ServiceMonitor"));
    sm.spec.endpoints[0].interval = "soon";
    expect(() => new ServiceMonitor(sm).validate()).toThrow(/interval must match pattern/);
  });

  it("kustomization.yaml lists every manifest", () => {
    const k = parseAllDocuments(readFileSync(join(DIR, "kustomization.yaml"), "utf8"))[0]!.toJS();
    const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...k.resources].sort()).toEqual(files.sort());
  });

  it("selectors, port names and targets point at what exists", () => {
    const deployment = one("Deployment");
    const labels = deployment.spec.template.metadata.labels;
    const container = deployment.spec.template.spec.containers[0];
    const containerPorts = container.ports.map((p: Manifest) => p.name);
    expect(matches(deployment.spec.selector.matchLabels, labels)).toBe(true);

    const service = one("Service");
    expect(matches(service.spec.selector, labels)).toBe(true);
    for (const p of service.spec.ports) expect(containerPorts).toContain(p.targetPort);
    const servicePorts = service.spec.ports.map((p: Manifest) => p.name);

    expect(matches(one("PodDisruptionBudget").spec.selector.matchLabels, labels)).toBe(true);
    const hpa = one("HorizontalPodAutoscaler");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
    expect(hpa.spec.metrics[0].resource.name).toBe("cpu");
    // HPA CPU utilization is relative to the request: there must be one.
    expect(container.resources.requests.cpu).toBeDefined();

    const ingressBackend = one("Ingress").spec.rules[0].http.paths[0].backend.service;
    expect(ingressBackend.name).toBe(service.metadata.name);
    expect(servicePorts).toContain(ingressBackend.port.name);

    const monitor = one("ServiceMonitor");
    expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(servicePorts).toContain(monitor.spec.endpoints[0].port);
    expect(monitor.spec.endpoints[0].path).toBe("/metrics");
  });

  it("probes hit /readyz and /healthz on the port the gateway listens on", () => {
    const container = one("Deployment").spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value]));
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "tunnel" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "tunnel" });
    const tunnel = container.ports.find((p: Manifest) => p.name === "tunnel");
    expect(env.SWTUNNEL_LISTEN).toBe(`0.0.0.0:${tunnel.containerPort}`);
  });

  it("terminationGracePeriodSeconds covers the preStop wait plus the drain timeout", () => {
    const pod = one("Deployment").spec.template.spec;
    const container = pod.containers[0];
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value]));
    const [cmd, seconds] = container.lifecycle.preStop.exec.command;
    expect(cmd).toBe("sleep");
    const drainSeconds = Number(env.SWTUNNEL_DRAIN_TIMEOUT_MS) / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(seconds) + drainSeconds);
  });

  it("the memory request holds an idle gateway plus SWTUNNEL_MAX_SOCKETS sockets at the benchmark's worst figure", () => {
    const container = one("Deployment").spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value]));
    const perSocketKiB = kibPerSocketFromBenchmarks();
    const IDLE_GATEWAY_MIB = 87; // RSS of an idle Node 24 gateway, docs/DEPLOY.md
    const needMiB = IDLE_GATEWAY_MIB + (Number(env.SWTUNNEL_MAX_SOCKETS) * perSocketKiB) / 1024;
    const requestMiB = mebibytes(container.resources.requests.memory);
    expect(requestMiB).toBeGreaterThanOrEqual(needMiB);
    expect(mebibytes(container.resources.limits.memory)).toBeGreaterThanOrEqual(requestMiB);
    // The V8 heap limit leaves room inside the container limit.
    const heap = /--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS)!;
    expect(Number(heap[1])).toBeLessThan(mebibytes(container.resources.limits.memory));
  });

  it("every SWTUNNEL_* variable is a flag of the CLI, and the CLI accepts the values", () => {
    const container = one("Deployment").spec.template.spec.containers[0];
    expect(container.args).toEqual(["gateway"]);
    const env: Record<string, string> = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e.value]));
    const help = usage();
    for (const name of Object.keys(env).filter((n) => n.startsWith("SWTUNNEL_"))) {
      const flag = `--${name.slice("SWTUNNEL_".length).toLowerCase().replace(/_/g, "-")}`;
      expect(help, `${name} is not a flag of swtunnel gateway`).toContain(`${flag} `);
    }
    const parsed = parseCli(container.args, env);
    expect(parsed.command).toBe("gateway");
    expect(parsed.options).toMatchObject({ host: "0.0.0.0", port: 8080, upstream: env.SWTUNNEL_UPSTREAM, maxSockets: 5000 });
  });
});
