/**
 * The ready-made Service Worker, built to dist/browser/sw.js (`swtunnel/sw.js`).
 * Configured by its script URL's query string (see worker/entry-config.ts): `gateway`,
 * `match` (repeatable), `fallback`, `contentTypes`. Activates at once and claims open
 * pages, so the first visit is already carried.
 */
import { parseEntryConfig } from "./entry-config.js";
import { installTunnel } from "./index.js";
import type { WorkerScopeLike } from "./scope.js";

const scope = self as unknown as WorkerScopeLike;
const config = parseEntryConfig(scope.location.href);
installTunnel(scope, { ...config, claim: true });
