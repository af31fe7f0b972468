/**
 * The npm package installs clean: `npm pack` of the built repo, installed from the tarball
 * into an empty folder (dependencies from npm's cache), then used as a user would: the
 * `swtunnel` bin, every subpath export imported in Node ESM, types resolved by TypeScript
 * and checked by publint and @arethetypeswrong/cli. Needs `npm run build` first (npm test
 * does it).
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromRoot } from "../../tools/paths.js";

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(fromRoot("package.json"), "utf8")) as {
  version: string;
  exports: Record<string, unknown>;
  bin: Record<string, string>;
};
/** Module entry points; `./sw.js` is a classic worker script to serve, not to import. */
const modules = Object.keys(pkg.exports).filter((k) => k !== "./package.json" && k !== "./sw.js");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

describe("the npm package", () => {
  let dir: string;
  let tarball: string;
  let installed: string;

  beforeAll(async () => {
    if (!existsSync(fromRoot("dist/server/cli.js"))) throw new Error("dist/ is missing: run `npm run build` first");
    dir = await mkdtemp(join(tmpdir(), "swtunnel-package-"));
    await run(NPM, ["pack", "--pack-destination", dir, "--silent"], { cwd: fromRoot() });
    const packed = (await readdir(dir)).filter((f) => f.endsWith(".tgz"));
    expect(packed).toEqual([`swtunnel-${pkg.version}.tgz`]);
    tarball = join(dir, packed[0]!);
    const app = join(dir, "app");
    await run("mkdir", [app]);
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    await run(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel", "error", tarball], { cwd: app });
    installed = app;
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("ships the CLI executable and none of the repo's dev parts", async () => {
    const { stdout } = await run("tar", ["-tvzf", tarball]);
    const cli = stdout.split("\n").find((l) => l.endsWith(` package/${pkg.bin.swtunnel!.replace(/^\.\//, "")}`));
    expect(cli, stdout).toBeDefined();
    expect(cli!.slice(0, 10)).toMatch(/^-rwxr-xr-x/);
    expect(readFileSync(fromRoot(pkg.bin.swtunnel!), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    for (const dev of ["package/dist/demo/", "package/dist/bench/", "package/dist/tools/", "package/test/", "package/node_modules/"]) {
      expect(stdout).not.toContain(dev);
    }
    // Installed, the bin link is executable too.
    const link = await stat(join(installed, "node_modules/.bin/swtunnel"));
    expect(link.mode & 0o111).not.toBe(0);
  });

  it("runs `npx swtunnel --version` and `swtunnel gateway --help`", async () => {
    const version = await run("npx", ["--no-install", "swtunnel", "--version"], { env: userEnv(), cwd: installed });
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = await run(join(installed, "node_modules/.bin/swtunnel"), ["gateway", "--help"], { cwd: installed });
    expect(help.stdout).toMatch(/Usage: swtunnel gateway/);
    expect(help.stdout).toContain("--upstream");
  });

  it("imports every subpath export in Node ESM", async () => {
    const script = modules.map((m) => `const m${modules.indexOf(m)} = await import(${JSON.stringify(`swtunnel${m.slice(1)}`)});`);
    const counts = modules.map((_, i) => `Object.keys(m${i}).length`).join(",");
    script.push(`console.log(JSON.stringify({ counts: [${counts}], sw: import.meta.resolve("swtunnel/sw.js") }));`);
    await writeFile(join(installed, "imports.mjs"), script.join("\n"));
    const { stdout } = await run(process.execPath, ["imports.mjs"], { cwd: installed });
    const result = JSON.parse(stdout) as { counts: number[]; sw: string };
    expect(result.counts).toHaveLength(modules.length);
    for (const [i, n] of result.counts.entries()) expect(n, `exports of swtunnel${modules[i]!.slice(1)}`).toBeGreaterThan(0);
    // The worker script resolves and is valid JavaScript.
    expect(result.sw).toMatch(/\/node_modules\/swtunnel\/dist\/browser\/sw\.js$/);
    await run(process.execPath, ["--check", new URL(result.sw).pathname]);
  });

  it("resolves types for every module export from a TypeScript (nodenext, strict) consumer", async () => {
    const lines = modules.map((m, i) => `import * as m${i} from ${JSON.stringify(`swtunnel${m.slice(1)}`)};`);
    lines.push(`export const all = [${modules.map((_, i) => `m${i}`).join(", ")}];`);
    lines.push(`import { createGateway, type GatewayOptions } from "swtunnel/server";`);
    lines.push(`import { createTunnelClient, type TunnelClient } from "swtunnel/client";`);
    lines.push(`export const o: GatewayOptions = { upstream: "http://127.0.0.1:50051" };`);
    lines.push(`export const f: (o: GatewayOptions) => Promise<unknown> = createGateway;`);
    lines.push(`export const c: (o: { url: string }) => TunnelClient = createTunnelClient;`);
    await writeFile(join(installed, "check.ts"), lines.join("\n"));
    const tsc = fromRoot("node_modules/typescript/bin/tsc");
    const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2023"];
    args.push("--lib", "es2023,dom", "--skipLibCheck", "--typeRoots", fromRoot("node_modules/@types"), "--types", "node", "check.ts");
    await run(process.execPath, [tsc, ...args], { cwd: installed }).catch((err: { stdout?: string }) => {
      throw new Error(`tsc failed on the installed package:\n${err.stdout}`);
    });
  });

  it("passes publint (strict) and @arethetypeswrong/cli (ESM-only profile)", async () => {
    const publint = await run(process.execPath, [fromRoot("node_modules/publint/src/cli.js"), "run", tarball, "--strict"]);
    expect(publint.stdout).toContain("All good!");
    const attw = await run(process.execPath, [
      fromRoot("node_modules/@arethetypeswrong/cli/dist/index.js"),
      tarball,
      "--profile",
      "esm-only",
      "--exclude-entrypoints",
      "sw.js",
      "--format",
      "json",
    ]).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? "" }));
    const report = JSON.parse(attw.stdout) as {
      analysis: { entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> };
      problems: Record<string, Array<{ entrypoint: string; resolutionKind: string }>>;
    };
    // ESM consumers (Node and bundlers) find a .d.ts for every module export...
    for (const m of modules) {
      for (const kind of ["node16-esm", "bundler"]) {
        expect(report.analysis.entrypoints[m]?.resolutions[kind]?.resolution?.fileName, `${m} ${kind}`).toMatch(/\.d\.ts$/);
      }
    }
    // ...and no problem is left for them (the package is ESM-only: CJS and node10 are out of scope).
    const esmProblems = Object.values(report.problems)
      .flat()
      .filter((p) => p.resolutionKind === "node16-esm" || p.resolutionKind === "bundler");
    expect(esmProblems).toEqual([]);
  });
});

/**
 * The environment a user's shell would have: without the npm_* variables of the npm or npx
 * that runs this suite (under `npx -p node@24 -- npm test` they name node@24 as the
 * package to run, and a nested `npx swtunnel` then refuses to start).
 */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));
}
