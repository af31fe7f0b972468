#!/usr/bin/env node
// `npm run build`: type-check everything, compile to dist/, bundle the worker and the page
// SDK for browsers.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = (project) => {
  const r = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", project], { stdio: "inherit", cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

rmSync(join(root, "dist"), { recursive: true, force: true });
tsc("tsconfig.json"); // type-check everything, tests included
tsc("tsconfig.build.json"); // emit the package, the demo and the benchmark
chmodSync(join(root, "dist/server/cli.js"), 0o755); // the package's bin: executable in the tarball too
const browser = join(root, "scripts/build-browser.mjs");
if (existsSync(browser)) {
  const { buildBrowser } = await import(pathToFileURL(browser).href);
  await buildBrowser({ outdir: join(root, "dist/browser"), minify: true });
}
