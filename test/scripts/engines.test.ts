/** Which engines a run selects (SWTUNNEL_ENGINES) and which Debian packages they need. */
import { describe, expect, it } from "vitest";
import { enginePackages, selectEngines } from "../../scripts/engines.mjs";

describe("selectEngines", () => {
  it("unset or empty: all three, in suite order", () => {
    expect(selectEngines(undefined)).toEqual(["chromium", "firefox", "webkit"]);
    expect(selectEngines(" ")).toEqual(["chromium", "firefox", "webkit"]);
  });
  it("a list, in any order and with commas or spaces: those, in suite order", () => {
    expect(selectEngines("chromium")).toEqual(["chromium"]);
    expect(selectEngines("webkit, chromium")).toEqual(["chromium", "webkit"]);
  });
  it("an unknown name: an error naming it and the known ones", () => {
    expect(() => selectEngines("chromium,safari")).toThrow('SWTUNNEL_ENGINES: unknown engine "safari" (known: chromium, firefox, webkit)');
  });
});

describe("enginePackages", () => {
  it("only the packages of missing files, each once", () => {
    const missing = new Set(["/usr/bin/firefox-esr", "/usr/bin/WebKitWebDriver", "/usr/bin/Xvfb"]);
    const exists = (f: string) => !missing.has(f);
    expect(enginePackages(["chromium", "firefox", "webkit"], exists)).toEqual(["firefox-esr", "webkit2gtk-driver", "xvfb"]);
    expect(enginePackages(["chromium"], exists)).toEqual([]);
  });
  it("a binary given by its variable is the one checked", () => {
    const seen: string[] = [];
    enginePackages(["chromium", "firefox"], (f) => (seen.push(f), true), { SWTUNNEL_CHROMIUM: "/opt/c", SWTUNNEL_FIREFOX: "/opt/f" });
    expect(seen).toEqual(["/opt/c", "/opt/f"]);
  });
});
