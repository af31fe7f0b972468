// The ready-made Service Worker bundle (what scripts/build-browser.mjs writes as
// dist/browser/sw.js) stays small: no @connectrpc/connect or @bufbuild/protobuf inside,
// and at most 20 KiB minified + gzipped.
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("sw.js bundle", () => {
  it("carries no Connect or protobuf runtime and gzips to <= 20 KiB", async () => {
    const result = await build({
      absWorkingDir: fileURLToPath(new URL("../..", import.meta.url)),
      entryPoints: ["sw/entry.ts"],
      bundle: true,
      minify: true,
      treeShaking: true,
      format: "esm",
      target: "es2022",
      platform: "browser",
      legalComments: "none",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((p) => p.includes("node_modules"))).toEqual([]);
    const gzipped = gzipSync(result.outputFiles[0]!.contents, { level: 9 }).byteLength;
    expect(gzipped).toBeLessThanOrEqual(20 * 1024);
  });
});
