#!/usr/bin/env node
// `npm run build`: type-check everything, compile to dist/, bundle the worker and the page
// SDK for browsers.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, rmSync } from "node:fs";
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
// tsc writes files without the execute bit; the bin must keep it (npx swtunnel, or running
// dist/server/cli.js directly, fails with "Permission denied" otherwise).
const cli = join(root, "dist/server/cli.js");
if (!readFileSync(cli, "utf8").startsWith("#!/usr/bin/env node\n")) {
  console.error(`build: ${cli} does not start with "#!/usr/bin/env node"; keep the shebang on the first line of server/cli.ts`);
  process.exit(1);
}
chmodSync(cli, 0o755);
const browser = join(root, "scripts/build-browser.mjs");
if (existsSync(browser)) {
  const { buildBrowser } = await import(pathToFileURL(browser).href);
  await buildBrowser({ outdir: join(root, "dist/browser"), minify: true });
}
