// Installing Debian packages for the set-up: without recommends, waiting for another apt
// to release its lock rather than failing at once, and saying plainly when neither root
// nor sudo is there. Plain Node, no dependencies (runs before npm ci).
import { spawnSync } from "node:child_process";

/** How long apt waits for another apt/dpkg to release its lock, seconds. */
export const LOCK_TIMEOUT_S = 120;

/**
 * The commands that install `packages`, or the error to print when they cannot be run:
 * as root directly, otherwise through sudo, otherwise not at all.
 */
export function aptPlan(packages, { isRoot, hasSudo }) {
  const apt = ["apt-get", "-o", `DPkg::Lock::Timeout=${LOCK_TIMEOUT_S}`];
  const commands = [
    [...apt, "update", "-qq"],
    [...apt, "install", "-y", "-qq", "--no-install-recommends", ...packages],
  ];
  if (isRoot) return { commands };
  // sudo resets the environment: carry DEBIAN_FRONTEND through env(1).
  if (hasSudo) return { commands: commands.map((c) => ["sudo", "env", "DEBIAN_FRONTEND=noninteractive", ...c]) };
  return {
    error:
      `installing ${packages.join(", ")} needs root or sudo, and this user has neither. ` +
      `Ask an administrator to run: apt-get install --no-install-recommends ${packages.join(" ")}; then run this again.`,
  };
}

/** True when a `sudo` command exists on PATH. */
export function sudoAvailable() {
  const r = spawnSync("sudo", ["--version"], { stdio: "ignore" });
  return !r.error && r.status === 0;
}
