// The browser engines of the e2e suite, which of them a run selects, and the Debian
// packages each one needs. Plain Node, no dependencies (scripts/run.mjs uses it before
// npm ci; playwright.config.ts through e2e/support/drivers/engine.ts).

/** Every engine, in the order the suite runs them; also the Playwright project names. */
export const ENGINES = ["chromium", "firefox", "webkit"];

/**
 * The engines named in `value` (comma- or space-separated: `SWTUNNEL_ENGINES`), all of
 * them when it is empty or unset. Throws on a name that is not an engine, so a typo
 * never silently runs nothing.
 */
export function selectEngines(value) {
  const names = (value ?? "").split(/[\s,]+/).filter((n) => n !== "");
  if (names.length === 0) return [...ENGINES];
  for (const name of names) {
    if (!ENGINES.includes(name)) throw new Error(`SWTUNNEL_ENGINES: unknown engine "${name}" (known: ${ENGINES.join(", ")})`);
  }
  return ENGINES.filter((e) => names.includes(e));
}

/**
 * The files each engine runs and the Debian package that provides each. (`env` overrides
 * a binary the way the drivers do; MiniBrowser comes with webkit2gtk-driver's dependency.)
 */
export function engineFiles(env = {}) {
  return {
    chromium: [[env.SWTUNNEL_CHROMIUM ?? "/usr/bin/chromium", "chromium"]],
    firefox: [[env.SWTUNNEL_FIREFOX ?? "/usr/bin/firefox-esr", "firefox-esr"]],
    webkit: [
      [env.SWTUNNEL_WEBKIT_DRIVER ?? "/usr/bin/WebKitWebDriver", "webkit2gtk-driver"],
      ["/usr/bin/Xvfb", "xvfb"],
    ],
  };
}

/** The Debian packages to install so that `engines` can run: those whose file `exists` says is missing. */
export function enginePackages(engines, exists, env = {}) {
  const files = engineFiles(env);
  const packages = [];
  for (const engine of engines) {
    for (const [file, pkg] of files[engine]) if (!exists(file) && !packages.includes(pkg)) packages.push(pkg);
  }
  return packages;
}
