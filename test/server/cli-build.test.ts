/**
 * The built package's CLI: `npm run build` (the real build, which deletes and re-emits
 * dist/) must leave dist/server/cli.js executable, so `npx swtunnel` works in a checkout.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { fromRoot } from "../../tools/paths.js";

const run = promisify(execFile);

describe("npm run build", () => {
  it("leaves dist/server/cli.js executable: npx swtunnel --version prints package.json's version", { timeout: 600_000 }, async () => {
    const root = fromRoot();
    await run("npm", ["run", "build", "--silent"], { cwd: root, maxBuffer: 16 << 20 });
    const cli = fromRoot("dist/server/cli.js");
    expect(readFileSync(cli, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(() => accessSync(cli, constants.X_OK)).not.toThrow();
    const { version } = JSON.parse(readFileSync(fromRoot("package.json"), "utf8")) as { version: string };
    const { stdout } = await run("npx", ["--no-install", "swtunnel", "--version"], { cwd: root });
    expect(stdout.trim()).toBe(version);
  });
});
