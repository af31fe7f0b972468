/**
 * The little PromQL reading the dashboard test needs: which metric names and which label
 * names an expression (or a Grafana `label_values()` query) uses. Pure; tested in
 * grafana-dashboard.test.ts.
 */

/** Metric names in a PromQL expression (or a Grafana label_values() query). */
export function metricNames(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, " ") // string literals (label values)
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // range selectors
    .replace(/\b(?:by|without)\s*\([^)]*\)/g, " ") // grouping labels
    .replace(/(label_values\([^,()]*),\s*[A-Za-z_]\w*\s*\)/g, "$1)") // label_values(metric, label)
    .replace(/\$\w+/g, " "); // dashboard variables
  const names = new Set<string>();
  for (const m of e.matchAll(/([A-Za-z_:][\w:]*)(\s*\()?/g)) if (m[2] === undefined) names.add(m[1]!);
  return [...names];
}

/** Label names an expression groups by, filters on, or asks label_values() for. */
export function labelNames(expr: string): string[] {
  const out = new Set<string>();
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of noStrings.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) for (const l of m[1]!.split(",")) out.add(l.trim());
  for (const m of noStrings.matchAll(/\{([^}]*)\}/g)) for (const l of m[1]!.matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) out.add(l[1]!);
  for (const m of noStrings.matchAll(/label_values\([^,()]*,\s*([A-Za-z_]\w*)\s*\)/g)) out.add(m[1]!);
  return [...out].filter(Boolean);
}
