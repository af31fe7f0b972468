/** Types of scripts/build-fresh.mjs (plain JS so it runs before npm ci). */
export declare const STAMP: string;
export declare function newestInput(root: string): { mtimeMs: number; path: string };
export declare function staleReason(root: string): string | undefined;
export declare function markBuilt(root: string, startedMs: number): void;
