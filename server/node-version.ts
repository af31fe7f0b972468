/**
 * The Node version check the CLI runs before anything else (pure, and free of syntax or
 * APIs an old Node lacks), against package.json's `engines.node`.
 */

/** `x.y.z` as numbers (missing parts are 0). */
function parse(version: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = version
    .replace(/^v/, "")
    .split(".")
    .map((s) => Number.parseInt(s, 10) || 0);
  return [a, b, c];
}

function atLeast(version: string, minimum: string): boolean {
  const v = parse(version);
  const m = parse(minimum);
  for (let i = 0; i < 3; i++) if (v[i] !== m[i]) return v[i]! > m[i]!;
  return true;
}

/**
 * Why `version` does not satisfy `engines` (only the `>=X.Y.Z` form is used here), with
 * what to do; undefined when it does, or when `engines` has another form.
 */
export function unsupportedNode(version: string, engines: string | undefined): string | undefined {
  const m = /^\s*>=\s*v?(\d+(?:\.\d+){0,2})\s*$/.exec(engines ?? "");
  if (!m || atLeast(version, m[1]!)) return undefined;
  return (
    `swtunnel needs Node ${engines!.trim()} (package.json engines); this is Node ${version.replace(/^v/, "")}. ` +
    "Install a Node that satisfies it (for example Node 24) and run it again."
  );
}
