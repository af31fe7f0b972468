/**
 * The three browser engines the e2e suite runs in, and which of them a run selects
 * (`SWTUNNEL_ENGINES`, e.g. `chromium` or `chromium,firefox`; default all three).
 */

/** A browser engine of the suite; also the Playwright project name. */
export type Engine = "chromium" | "firefox" | "webkit";

/** Every engine, in the order the suite runs them. */
export const ENGINES: readonly Engine[] = ["chromium", "firefox", "webkit"];

/**
 * The engines named in `value` (comma- or space-separated), all of them when it is empty
 * or unset. Throws on a name that is not an engine, so a typo never silently runs nothing.
 */
export function selectEngines(value: string | undefined): Engine[] {
  const names = (value ?? "").split(/[\s,]+/).filter((n) => n !== "");
  if (names.length === 0) return [...ENGINES];
  for (const name of names) {
    if (!(ENGINES as readonly string[]).includes(name)) {
      throw new Error(`SWTUNNEL_ENGINES: unknown engine "${name}" (known: ${ENGINES.join(", ")})`);
    }
  }
  return ENGINES.filter((e) => names.includes(e));
}
