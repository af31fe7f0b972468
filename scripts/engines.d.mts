/** Types of scripts/engines.mjs (plain JS so it runs before npm ci). */
export type Engine = "chromium" | "firefox" | "webkit";
export declare const ENGINES: readonly Engine[];
export declare function selectEngines(value: string | undefined): Engine[];
export declare function engineFiles(env?: Record<string, string | undefined>): Record<Engine, Array<[file: string, pkg: string]>>;
export declare function enginePackages(
  engines: readonly Engine[],
  exists: (file: string) => boolean,
  env?: Record<string, string | undefined>,
): string[];
