// Browser bundles: the ready-made Service Worker (dist/browser/sw.js, exported as
// `swtunnel/sw.js`) and the page SDK (dist/browser/page-sdk.js), ESM, es2022.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Bundles sw/entry.ts -> <outdir>/sw.js and page-sdk/index.ts -> <outdir>/page-sdk.js.
 * sw.js has no imports or exports left, so it also runs as a classic worker script.
 * @param {{ outdir: string, minify?: boolean, sourcemap?: boolean }} options
 */
export async function buildBrowser({ outdir, minify = false, sourcemap = true }) {
  const common = {
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    minify,
    // Explicit although esbuild's default when bundling: the worker's size budget
    // (20 KiB gzipped, test/sw/bundle-size.test.ts) relies on unused code going.
    treeShaking: true,
    // A linked .map file next to the bundle, never inlined into it.
    sourcemap: sourcemap ? "linked" : false,
    legalComments: "none",
    logLevel: "warning",
    absWorkingDir: root,
  };
  await Promise.all([
    build({ ...common, entryPoints: { sw: join(root, "sw/entry.ts") }, outdir }),
    build({ ...common, entryPoints: { "page-sdk": join(root, "page-sdk/index.ts") }, outdir }),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2] ?? join(root, "dist/browser");
  await buildBrowser({ outdir, minify: !process.argv.includes("--no-minify") });
  console.log(`browser bundles written to ${outdir}`);
}
