/**
 * Builds the demo page into a directory: index.html (with the gateway configuration
 * written in), style.css, main.js (esbuild) and sw.js (esbuild, then workbox-build's
 * injectManifest fills in the precache manifest of the other files).
 */
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import { injectManifest } from "workbox-build";
import { fromRoot } from "../tools/paths.js";

/** What the page needs to know at run time. */
export interface DemoAppConfig {
  /** Gateway WebSocket URL, ws://host:port/tunnel */
  gateway: string;
  /** URL prefixes the worker carries. */
  match: string[];
  /** Base URL of a Connect backend the page calls directly (not through the tunnel), for comparison. */
  direct?: string;
}

/** Builds the demo app into `outdir`; returns the number of precached files. */
export async function buildDemoApp(outdir: string, config: DemoAppConfig): Promise<number> {
  const app = fromRoot("demo/app");
  await mkdir(outdir, { recursive: true });
  const html = await readFile(join(app, "index.html"), "utf8");
  // JSON in a script element: escape "<" so no value can close the element.
  const script = `<script>window.DEMO_CONFIG = ${JSON.stringify(config).replace(/</g, "\\u003c")};</script>`;
  await writeFile(join(outdir, "index.html"), html.replace("<!--DEMO_CONFIG-->", script));
  await copyFile(join(app, "style.css"), join(outdir, "style.css"));
  const common = {
    bundle: true,
    format: "iife" as const,
    platform: "browser" as const,
    target: "es2022",
    minify: true,
    legalComments: "none" as const,
    logLevel: "warning" as const,
    // workbox's modules read process.env.NODE_ENV to drop their dev-only logging.
    define: { "process.env.NODE_ENV": '"production"' },
  };
  await build({ ...common, entryPoints: [join(app, "main.ts")], outfile: join(outdir, "main.js") });
  const swSource = join(outdir, ".sw-source.js");
  await build({ ...common, entryPoints: [join(app, "sw.ts")], outfile: swSource });
  try {
    const { count, warnings } = await injectManifest({
      swSrc: swSource,
      swDest: join(outdir, "sw.js"),
      globDirectory: outdir,
      globPatterns: ["**/*.{html,js,css}"],
      globIgnores: ["sw.js", ".sw-source.js"],
    });
    if (warnings.length > 0) throw new Error(`workbox-build injectManifest: ${warnings.join("; ")}`);
    return count;
  } finally {
    await rm(swSource, { force: true });
  }
}
