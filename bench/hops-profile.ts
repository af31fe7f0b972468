/** Self time per function of a V8 CPU profile (the `.cpuprofile` / CDP Profiler format), for the hops tools. */

/** A V8 CPU profile. */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Prints the `top` functions by self time, as a share of the non-idle time. */
export function printTop(p: Profile, top: number): void {
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byName = new Map<string, number>();
  let total = 0;
  for (const node of p.nodes) {
    const t = self.get(node.id) ?? 0;
    total += t;
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^.*node_modules\//, "~/").replace(/^file:\/\/.*\/dist\//, "")}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName || "(anonymous)"} ${where}`;
    byName.set(key, (byName.get(key) ?? 0) + t);
  }
  const idle = [...byName].filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
  process.stdout.write(`\nself time, of ${((total - idle) / 1000).toFixed(0)} ms busy:\n`);
  for (const [name, t] of [...byName]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    process.stdout.write(`${((100 * t) / (total - idle)).toFixed(1).padStart(5)}%  ${name}\n`);
  }
}
