/**
 * The built package's CLI: `npm run build` (which deletes and re-emits dist/) must leave
 * dist/server/cli.js executable, so `npx swtunnel` works in a checkout, and the built bin
 * must refuse a Node older than package.json's engines. Checks the dist/ that `npm test`
 * builds right before Vitest runs (rebuilding here would race the other test files).
 */
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { fromRoot } from "../../tools/paths.js";

const run = promisify(execFile);

describe("npm run build", () => {
  it("leaves dist/server/cli.js executable: npx swtunnel --version prints package.json's version", { timeout: 600_000 }, async () => {
    const root = fromRoot();
    const cli = fromRoot("dist/server/cli.js");
    expect(existsSync(cli), "dist/server/cli.js is missing: run `npm run build` first (npm test does)").toBe(true);
    expect(readFileSync(cli, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(() => accessSync(cli, constants.X_OK)).not.toThrow();
    const { version } = JSON.parse(readFileSync(fromRoot("package.json"), "utf8")) as { version: string };
    const { stdout } = await run("npx", ["--no-install", "swtunnel", "--version"], { env: userEnv(), cwd: root });
    expect(stdout.trim()).toBe(version);
    // The built bin refuses Node 20 (older than engines) before loading the gateway.
    const refused = await run("npx", ["-y", "-p", "node@20", "--", "node", cli, "--version"]).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^swtunnel needs Node >=\S+ \(package.json engines\); this is Node 20\./);
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
