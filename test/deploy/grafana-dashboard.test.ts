/**
 * deploy/grafana-dashboard.json against a running gateway: every metric an expression names
 * is one the gateway really exports (scraped over HTTP after real calls), every label it
 * groups or filters by is on those samples (or added by Prometheus), and every metric family
 * the gateway exports has a panel.
 */
import { readFileSync } from "node:fs";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createTransportOverTunnel, createTunnelClient } from "../../client/index.js";
import { type Backend, startGrpcBackend } from "../../demo/backend/index.js";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { fromRoot } from "../../tools/paths.js";
import { labelNames, metricNames } from "./promql.js";

/** Labels Prometheus adds to every scraped sample (and Kubernetes service discovery adds). */
const TARGET_LABELS = new Set(["job", "instance", "pod", "namespace", "service"]);

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

function dashboardExpressions(): Array<{ where: string; expr: string }> {
  const dash = JSON.parse(readFileSync(fromRoot("deploy/grafana-dashboard.json"), "utf8")) as {
    panels: Panel[];
    templating: { list: Array<{ name: string; query?: string | { query: string } }> };
  };
  const out: Array<{ where: string; expr: string }> = [];
  for (const p of dash.panels) for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}"`, expr: t.expr });
  for (const v of dash.templating.list) {
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    if (v.name !== "datasource" && q) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

describe("the metric and label parsers (so the checks below can fail)", () => {
  it("finds metric names and labels, not functions, keywords or variables", () => {
    expect(metricNames('histogram_quantile(0.9, sum by (le) (rate(foo_seconds_bucket{job=~"$job", a="b{c}"}[$__rate_interval])))')).toEqual(
      ["foo_seconds_bucket"],
    );
    expect(metricNames('label_values(bar_total{x="1"}, instance)')).toEqual(["bar_total"]);
    expect(metricNames("sum(a) / sum(b)")).toEqual(["a", "b"]);
    expect(labelNames('sum by (kind, direction) (rate(x{job=~"$job"}[5m]))').sort()).toEqual(["direction", "job", "kind"]);
  });
});

describe("deploy/grafana-dashboard.json", () => {
  let backend: Backend;
  let gateway: Gateway;
  /** Sample name -> label names seen on it, from a real scrape. */
  const samples = new Map<string, Set<string>>();
  const families = new Set<string>();

  beforeAll(async () => {
    backend = await startGrpcBackend();
    gateway = await createGateway({ upstream: backend.url, port: 0, adminListen: "127.0.0.1:0", logLevel: "silent" });
    // Real traffic, so every labelled metric has samples: calls that work and fail, and a refused upgrade.
    const tunnel = createTunnelClient({ url: gateway.tunnelUrl, WebSocket });
    const client = createClient(TestService, createTransportOverTunnel({ client: tunnel }));
    await client.unary({ text: "for the dashboard" });
    await expect(client.fail({ code: Code.NotFound })).rejects.toBeInstanceOf(ConnectError);
    tunnel.close();
    const refused = new WebSocket(gateway.tunnelUrl, ["not-swtunnel"]);
    await new Promise((resolve) => refused.once("error", resolve));

    const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    for (const line of text.split("\n")) {
      const type = /^# TYPE (\S+) /.exec(line);
      if (type) families.add(type[1]!);
      if (line === "" || line.startsWith("#")) continue;
      const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
      if (!m) continue;
      const labels = samples.get(m[1]!) ?? new Set<string>();
      for (const l of (m[2] ?? "").matchAll(/([A-Za-z_]\w*)="/g)) labels.add(l[1]!);
      samples.set(m[1]!, labels);
    }
  });

  afterAll(async () => {
    await gateway?.close(0);
    await backend?.close();
  });

  it("names only metrics the gateway exports, with labels they carry", () => {
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(10);
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${where}: no metric in ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(samples.has(name), `${where}: ${name} is not exported by the gateway`).toBe(true);
        for (const label of labelNames(expr)) {
          if (TARGET_LABELS.has(label)) continue;
          const onSample = names.some((n) => samples.get(n)?.has(label));
          expect(onSample, `${where}: label ${label} is not on ${names.join(", ")}`).toBe(true);
        }
      }
    }
  });

  it("has a panel for every metric family the gateway exports", () => {
    const used = new Set(dashboardExpressions().flatMap(({ expr }) => metricNames(expr)));
    const missing = [...families].filter((f) => ![f, `${f}_bucket`, `${f}_count`, `${f}_sum`].some((n) => used.has(n)));
    expect(families.size).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });
});
