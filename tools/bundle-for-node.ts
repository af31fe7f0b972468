/**
 * Bundles a TypeScript entry (the CLI, the demo) into one ESM file that a test can spawn
 * with `node`, so tests run the real program without a prior `npm run build`.
 */
import { mkdirSync } from "node:fs";
import { build } from "esbuild";
import { fromRoot } from "./paths.js";

/** Bundles `entry` (a path from the repository root) to `node_modules/.cache/swtunnel-test/<name>.mjs`; returns that path. */
export async function bundleForNode(entry: string, name: string): Promise<string> {
  const dir = fromRoot("node_modules/.cache/swtunnel-test");
  mkdirSync(dir, { recursive: true });
  const outfile = `${dir}/${name}.mjs`;
  // Dependencies stay external: the bundle lives under node_modules/ and resolves them there.
  await build({
    entryPoints: [fromRoot(entry)],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile,
    logLevel: "silent",
  });
  return outfile;
}
