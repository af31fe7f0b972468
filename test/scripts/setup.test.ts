/**
 * The set-up helpers of scripts/run.mjs: the apt commands (no recommends, a lock timeout,
 * root / sudo / neither) and the build freshness check (a real directory tree whose
 * mtimes are set, so a second run with nothing changed does not rebuild).
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { aptPlan, LOCK_TIMEOUT_S } from "../../scripts/apt.mjs";
import { markBuilt, newestInput, STAMP, staleReason } from "../../scripts/build-fresh.mjs";

describe("aptPlan", () => {
  const apt = ["apt-get", "-o", `DPkg::Lock::Timeout=${LOCK_TIMEOUT_S}`];
  it("as root: update, then install without recommends, waiting for the apt lock", () => {
    expect(aptPlan(["chromium", "nginx-light"], { isRoot: true, hasSudo: false })).toEqual({
      commands: [
        [...apt, "update", "-qq"],
        [...apt, "install", "-y", "-qq", "--no-install-recommends", "chromium", "nginx-light"],
      ],
    });
  });
  it("not root: the same through sudo, keeping apt non-interactive", () => {
    const plan = aptPlan(["chromium"], { isRoot: false, hasSudo: true });
    expect(plan.commands?.[1]).toEqual([
      "sudo",
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      ...apt,
      "install",
      "-y",
      "-qq",
      "--no-install-recommends",
      "chromium",
    ]);
  });
  it("neither root nor sudo: an error that says so and what to ask for", () => {
    const plan = aptPlan(["chromium"], { isRoot: false, hasSudo: false });
    expect(plan.commands).toBeUndefined();
    expect(plan.error).toMatch(/needs root or sudo, and this user has neither/);
    expect(plan.error).toContain("apt-get install --no-install-recommends chromium");
  });
});

describe("build freshness", () => {
  let root: string;
  const at = (path: string, seconds: number) => {
    const t = new Date(1_700_000_000_000 + seconds * 1000);
    utimesSync(join(root, path), t, t);
  };
  const file = (path: string, seconds: number) => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), "x");
    at(path, seconds);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "swtunnel-fresh-"));
    file("package.json", 0);
    file("tsconfig.json", 0);
    file("server/gateway.ts", 10);
    file("demo/app/index.html", 5);
    file("node_modules/x/index.js", 1000); // never an input
    file("docs/README.md", 1000); // not a build input
    mkdirSync(join(root, "dist"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("never built: stale", () => {
    expect(staleReason(root)).toBe("no completed build in dist/");
  });

  it("built after every input changed: fresh, and stays fresh with nothing changed", () => {
    markBuilt(root, 1_700_000_000_000 + 20_000);
    expect(newestInput(root).path).toBe(join(root, "server/gateway.ts"));
    expect(staleReason(root)).toBeUndefined();
    expect(staleReason(root)).toBeUndefined();
  });

  it("a source, a page asset or a config newer than the build: stale, naming the file", () => {
    markBuilt(root, 1_700_000_000_000 + 20_000);
    at("demo/app/index.html", 30);
    expect(staleReason(root)).toBe("demo/app/index.html changed since the last build");
    markBuilt(root, 1_700_000_000_000 + 40_000);
    at("tsconfig.json", 50);
    expect(staleReason(root)).toBe("tsconfig.json changed since the last build");
    markBuilt(root, 1_700_000_000_000 + 60_000);
    file("client/new-file.ts", 70);
    expect(staleReason(root)).toBe(`${join("client", "new-file.ts")} changed since the last build`);
  });

  it("an input changed while the build ran makes it stale (the stamp is the build's start)", () => {
    markBuilt(root, 1_700_000_000_000 + 10_000);
    expect(staleReason(root)).toBe(`${join("server", "gateway.ts")} changed since the last build`);
    expect(STAMP).toBe("dist/.swtunnel-build");
  });
});
