/**
 * The demo's own Service Worker, as an app that already uses Workbox would write it:
 * Workbox precaches the demo's assets (the manifest is injected by workbox-build's
 * injectManifest at build time) and swtunnel carries the DemoService calls. The gateway
 * and the routes come from the script URL's query string, as registerTunnel() writes them.
 */
import { precacheAndRoute } from "workbox-precaching";
import { installTunnel } from "../../sw/index.js";
import { parseEntryConfig } from "../../sw/entry-config.js";
import type { WorkerScopeLike } from "../../sw/scope.js";

declare const self: WorkerScopeLike & { __WB_MANIFEST: Parameters<typeof precacheAndRoute>[0] };

// The tunnel's fetch listener goes first: it answers only the routes it matches.
installTunnel(self, { ...parseEntryConfig(self.location.href), claim: true });
precacheAndRoute(self.__WB_MANIFEST);
