/**
 * The Dockerfile, linted (no container engine runs here, so it is not built): dockerfilelint
 * from the npm registry finds no issue, and the properties the deploy docs promise hold:
 * multi-stage, a slim Node 24 base, a non-root user, a HEALTHCHECK, the CLI as an exec-form
 * entrypoint (node is PID 1 and gets SIGTERM itself), and a .dockerignore.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromRoot } from "../../tools/paths.js";

interface LintReport {
  totalIssues: number;
  files: Array<{ issues: Array<{ line: string; title: string; content: string }> }>;
}

/** Runs the dockerfilelint CLI (JSON output) on `file`. */
function lint(file: string): LintReport {
  const bin = fromRoot("node_modules/dockerfilelint/bin/dockerfilelint");
  try {
    return JSON.parse(execFileSync(process.execPath, [bin, "-o", "json", file], { encoding: "utf8" })) as LintReport;
  } catch (err) {
    // Exit code 1 when it found issues; the report is still on stdout.
    const stdout = (err as { stdout?: string }).stdout;
    if (stdout) return JSON.parse(stdout) as LintReport;
    throw err;
  }
}

/** Instructions with their arguments, continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  const joined = text.replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(" ") };
    });
}

describe("Dockerfile", () => {
  const text = readFileSync(fromRoot("Dockerfile"), "utf8");
  const ins = instructions(text);
  const finalStage = ins.slice(ins.map((i) => i.op).lastIndexOf("FROM"));

  it("passes dockerfilelint with no issue", () => {
    const report = lint(fromRoot("Dockerfile"));
    expect(report.files[0]!.issues).toEqual([]);
    expect(report.totalIssues).toBe(0);
  });

  it("dockerfilelint does find issues in a bad Dockerfile (the check above can fail)", () => {
    const dir = mkdtempSync(join(tmpdir(), "swtunnel-dockerfile-"));
    try {
      const bad = join(dir, "Dockerfile");
      writeFileSync(bad, "FROM node\nRUN apt-get install curl\nEXPOSE 99999\n");
      const titles = lint(bad).files[0]!.issues.map((i) => i.title);
      expect(titles).toContain("Base Image Missing Tag");
      expect(titles).toContain("Invalid Port Exposed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is multi-stage on a slim Node 24 base and runs as a non-root user", () => {
    const froms = ins.filter((i) => i.op === "FROM").map((i) => i.args);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^node:24-slim\b/);
    const user = finalStage.filter((i) => i.op === "USER").pop();
    expect(user?.args).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
    // The build tools stay in the build stage: the final one installs production deps only.
    const runs = finalStage.filter((i) => i.op === "RUN").map((i) => i.args);
    expect(runs.join("\n")).toContain("--omit=dev");
    expect(runs.join("\n")).not.toMatch(/npm ci|npm run build/);
  });

  it("has a HEALTHCHECK on /healthz and the CLI as an exec-form entrypoint", () => {
    const health = finalStage.find((i) => i.op === "HEALTHCHECK");
    expect(health?.args).toContain("/healthz");
    const entrypoint = finalStage.find((i) => i.op === "ENTRYPOINT");
    // Exec form (a JSON array): no shell in between, so SIGTERM reaches node and drains.
    const argv = JSON.parse(entrypoint!.args) as string[];
    expect(argv[0]).toBe("node");
    expect(argv[1]).toBe("/app/node_modules/swtunnel/dist/server/cli.js");
    // The path inside the installed package is the package's own bin.
    const pkg = JSON.parse(readFileSync(fromRoot("package.json"), "utf8")) as { bin: Record<string, string> };
    expect(`/app/node_modules/swtunnel/${pkg.bin.swtunnel!.replace(/^\.\//, "")}`).toBe(argv[1]);
    expect(JSON.parse(finalStage.find((i) => i.op === "CMD")!.args)[0]).toBe("gateway");
    expect(finalStage.find((i) => i.op === "STOPSIGNAL")?.args).toBe("SIGTERM");
  });

  it("has a .dockerignore that keeps node_modules, dist and .git out of the build context", () => {
    const ignored = readFileSync(fromRoot(".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim());
    for (const entry of ["node_modules", "dist", ".git"]) expect(ignored).toContain(entry);
  });
});
