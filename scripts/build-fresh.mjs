// Is dist/ up to date? A cheap mtime walk, so that a second `npm test` / `npm run demo`
// with nothing changed does not rebuild. Plain Node, no dependencies (runs before npm ci).
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";

/** Written into dist/ after a successful build, with the build's start time as its mtime. */
export const STAMP = "dist/.swtunnel-build";

/** Directories that hold no build input. */
const SKIP = new Set(["node_modules", "dist", "test-results", "playwright-report", "bench-results", "coverage"]);

/** Files the build reads: sources, the page's assets, generated descriptors, configs. */
const INPUTS = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json", ".html", ".css", ".proto", ".binpb"]);

/** The newest mtime (ms) of any build input under `root`, with the file it belongs to. */
export function newestInput(root) {
  let newest = { mtimeMs: 0, path: "" };
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || SKIP.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && INPUTS.has(extname(entry.name))) {
        const { mtimeMs } = statSync(path);
        if (mtimeMs > newest.mtimeMs) newest = { mtimeMs, path };
      }
    }
  };
  walk(root);
  return newest;
}

/**
 * Why dist/ must be (re)built, or undefined when it is fresh: the stamp of the last
 * successful build is newer than every input.
 */
export function staleReason(root) {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp)) return "no completed build in dist/";
  const built = statSync(stamp).mtimeMs;
  const newest = newestInput(root);
  if (newest.mtimeMs >= built) return `${newest.path.slice(root.length + 1)} changed since the last build`;
  return undefined;
}

/** Records a successful build that started at `startedMs` (inputs changed after that make it stale). */
export function markBuilt(root, startedMs) {
  const stamp = join(root, STAMP);
  writeFileSync(stamp, "written by scripts/run.mjs after a successful build; its mtime is the build's start\n");
  const t = new Date(startedMs);
  utimesSync(stamp, t, t);
}
