/** swtunnel's own package.json, found from this file (source, dist or a bundle under node_modules). */
import { readFileSync } from "node:fs";

export interface PackageInfo {
  version: string;
  engines?: { node?: string };
}

/** The nearest package.json named swtunnel above this file; version "unknown" when none is. */
export function ownPackageJson(): PackageInfo {
  for (let up = "../"; up.length <= 4 * 3; up += "../") {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), "utf8")) as PackageInfo & { name?: string };
      if (pkg.name === "swtunnel") return pkg;
    } catch {
      // not here; look one level up
    }
  }
  return { version: "unknown" };
}
