/**
 * Builds the benchmark page (bench/page/main.ts bundled with esbuild, the ready-made
 * tunnel worker) into a directory the static servers serve.
 */
import { build } from "esbuild";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { fromRoot } from "../tools/paths.js";

const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>swtunnel benchmark</title></head>
<body><p>swtunnel benchmark page; driven over CDP.</p><script type="module" src="/main.js"></script></body>
</html>
`;

/** Builds the worker bundles with scripts/build-browser.mjs into `outdir`. */
export async function buildWorkerBundles(outdir: string, minify: boolean): Promise<void> {
  const script = fromRoot("scripts/build-browser.mjs");
  if (!existsSync(script)) throw new Error(`${script} is missing; it builds the worker bundle (dist/browser/sw.js)`);
  const { buildBrowser } = (await import(pathToFileURL(script).href)) as {
    buildBrowser: (options: { outdir: string; minify: boolean; sourcemap?: boolean }) => Promise<unknown>;
  };
  await buildBrowser({ outdir, minify, sourcemap: false });
}

/** Writes index.html, main.js and sw.js into `dir`. */
export async function buildBenchPage(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "index.html"), html);
  await build({
    entryPoints: [fromRoot("bench/page/main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: false,
    outfile: join(dir, "main.js"),
    logLevel: "warning",
  });
  const workerDir = join(dir, ".worker");
  await buildWorkerBundles(workerDir, true);
  await copyFile(join(workerDir, "sw.js"), join(dir, "sw.js"));
}
