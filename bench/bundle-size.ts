/**
 * Size of the browser bundles as shipped: esbuild --minify output of the ready-made worker
 * and of the page SDK, raw and gzipped (zlib level 9).
 */
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildWorkerBundles } from "./browser-page.js";

/** Bytes of one bundle. */
export interface BundleSize {
  file: string;
  minBytes: number;
  gzipBytes: number;
}

/** Builds the browser bundles minified into a temporary directory and measures them. */
export async function measureBundles(): Promise<BundleSize[]> {
  const dir = await mkdtemp(join(tmpdir(), "swtunnel-bundles-"));
  try {
    await buildWorkerBundles(dir, true);
    const sizes: BundleSize[] = [];
    for (const file of ["sw.js", "page-sdk.js"]) {
      const path = join(dir, file);
      if (!existsSync(path)) continue;
      const bytes = await readFile(path);
      sizes.push({ file, minBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });
    }
    if (!sizes.some((s) => s.file === "sw.js")) throw new Error("scripts/build-browser.mjs produced no sw.js");
    return sizes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
