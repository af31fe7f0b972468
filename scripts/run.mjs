#!/usr/bin/env node
// The README's commands (`npm test`, `npm run demo`, `npm run bench`) go through here so
// that each one does its own set-up on a fresh machine: a supported Node, dependencies,
// Debian's Chromium (and nginx for the proxy test), the build. Plain Node, no
// dependencies, so it runs before `npm ci` has.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { aptPlan, sudoAvailable } from "./apt.mjs";
import { markBuilt, staleReason } from "./build-fresh.mjs";
import { enginePackages, selectEngines } from "./engines.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [task, ...args] = process.argv.slice(2);
const TASKS = ["test", "demo", "bench", "soak"];
if (!TASKS.includes(task)) {
  console.error(`usage: node scripts/run.mjs <${TASKS.join("|")}> [args...]`);
  process.exit(2);
}

const step = (msg) => console.log(`\x1b[36m[swtunnel]\x1b[0m ${msg}`);

function run(cmd, cmdArgs, options = {}) {
  const result = spawnSync(cmd, cmdArgs, { stdio: "inherit", cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}
/**
 * Runs `cmd` as a child, forwards Ctrl-C / SIGTERM to it, and exits with its code once it
 * stopped; the returned promise never settles. (`npm run demo` execs this script, so a
 * SIGINT sent to npm's own process reaches here.)
 */
function handOver(cmd, cmdArgs) {
  const child = spawn(cmd, cmdArgs, { stdio: "inherit", cwd: root });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return new Promise(() => {});
}
function mustRun(cmd, cmdArgs, what) {
  const code = run(cmd, cmdArgs);
  if (code !== 0) {
    console.error(`[swtunnel] ${what} failed (exit ${code}).`);
    process.exit(code);
  }
}

/**
 * The Playwright suite. The @long tests (a 75 s stream per engine, idle but for one message
 * a second) run in a second Playwright process alongside the others rather than after
 * them, which saves their whole length; their output is printed once they end. With
 * `SWTUNNEL_LONG_TESTS=0` they do not run at all. Resolves with the exit code.
 */
async function browserTests(engines) {
  const long = process.env.SWTUNNEL_LONG_TESTS !== "0";
  step(`browser tests (playwright: ${engines.join(", ")}${long ? "; the @long tests in a second run alongside" : ""})`);
  const exited = (child) => new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  const main = spawn("npx", ["playwright", "test", "--grep-invert", "@long"], { stdio: "inherit", cwd: root });
  let longRun;
  let longOutput = "";
  if (long) {
    // Its own output folder: each run empties its folder when it starts.
    longRun = spawn("npx", ["playwright", "test", "--grep", "@long", "--output", "test-results-long"], {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: root,
      env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? "1" : "0" },
    });
    longRun.stdout.on("data", (d) => (longOutput += d));
    longRun.stderr.on("data", (d) => (longOutput += d));
  }
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => [main, longRun].forEach((c) => c?.kill(signal)));
  const [mainCode, longCode] = await Promise.all([exited(main), longRun ? exited(longRun) : 0]);
  if (longRun) {
    step("the @long browser tests (run alongside):");
    process.stdout.write(longOutput);
  }
  if (mainCode !== 0 || longCode !== 0) {
    console.error(`[swtunnel] playwright failed (exit ${mainCode || longCode}${longCode !== 0 ? ", the @long run" : ""}).`);
    return mainCode || longCode;
  }
  return 0;
}

// 1. Node: swtunnel supports Node >= 22.12 (package.json engines). On an older Node, run
//    the same task under Node 24 from the npm registry rather than fail.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  step(`Node ${process.versions.node} is older than the supported 22.12; running "${task}" under Node 24 via npx node@24`);
  await handOver("npx", ["-y", "-p", "node@24", "--", "node", join(root, "scripts/run.mjs"), task, ...args]);
}

// 2. Dependencies, when missing or older than the lock file.
const lock = join(root, "package-lock.json");
const installed = join(root, "node_modules/.package-lock.json");
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  step("installing dependencies (npm ci)");
  mustRun("npm", ["ci", "--no-audit", "--no-fund"], "npm ci");
}

// 3. System packages: the browsers (Chromium for every task; for the tests also Firefox
//    ESR and WebKitGTK's driver with Xvfb, unless SWTUNNEL_ENGINES names fewer), nginx,
//    HAProxy and Caddy for the proxy tests.
const engines = task === "test" ? selectEngines(process.env.SWTUNNEL_ENGINES) : ["chromium"];
const needed = enginePackages([...new Set(["chromium", ...engines])], existsSync, process.env);
if (task === "test" && !existsSync("/usr/sbin/nginx")) needed.push("nginx-light");
// The proxy recipes of docs/DEPLOY.md (test/deploy) run HAProxy and Caddy too.
if (task === "test" && !existsSync("/usr/sbin/haproxy")) needed.push("haproxy");
if (task === "test" && !existsSync("/usr/bin/caddy")) needed.push("caddy");
if (needed.length > 0) {
  const isRoot = process.getuid?.() === 0;
  const plan = aptPlan(needed, { isRoot, hasSudo: !isRoot && sudoAvailable() });
  if (plan.error) {
    console.error(`[swtunnel] ${plan.error} (or set SWTUNNEL_CHROMIUM to a Chromium binary)`);
    process.exit(1);
  }
  step(`installing Debian packages: ${needed.join(", ")} (${isRoot ? "apt-get" : "sudo apt-get"})`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let code = 0;
  for (const [cmd, ...cmdArgs] of plan.commands) if (code === 0) code = run(cmd, cmdArgs, { env });
  if (code !== 0) {
    console.error(
      `[swtunnel] could not install ${needed.join(", ")}. Install them (Debian/Ubuntu: apt-get install ${needed.join(" ")}) or set SWTUNNEL_CHROMIUM to a Chromium binary, then run again.`,
    );
    process.exit(1);
  }
}

// 4. Build (type-check, compile, browser bundles), unless dist/ is newer than every input.
const stale = process.env.SWTUNNEL_REBUILD ? "SWTUNNEL_REBUILD is set" : staleReason(root);
if (stale) {
  step(`building (${stale})`);
  const started = Date.now();
  mustRun("npm", ["run", "build", "--silent"], "build");
  markBuilt(root, started);
} else {
  step("dist/ is up to date; not rebuilding (SWTUNNEL_REBUILD=1 forces a build)");
}

// 5. The task itself.
if (task === "test") {
  step("unit and integration tests (vitest)");
  mustRun("npx", ["vitest", "run", ...args], "vitest");
  process.exit(await browserTests(engines));
} else {
  step(task);
  const entry = task === "soak" ? "dist/bench/soak.js" : `dist/${task}/run.js`; // soak: not in CI, see bench/soak.ts
  await handOver(process.execPath, [join(root, entry), ...args]);
}
