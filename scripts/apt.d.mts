/** Types of scripts/apt.mjs (plain JS so it runs before npm ci). */
export declare const LOCK_TIMEOUT_S: number;
export declare function aptPlan(
  packages: string[],
  who: { isRoot: boolean; hasSudo: boolean },
): { commands: string[][]; error?: undefined } | { error: string; commands?: undefined };
export declare function sudoAvailable(): boolean;
