/**
 * `swtunnel/sw`: the Service Worker runtime (installTunnel, the Workbox handler) and the
 * tunnel client it runs on (also usable in Node).
 * @module
 */
export * from "./tunnel.js";
export * from "./worker/index.js";
