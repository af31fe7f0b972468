/**
 * `swtunnel/protocol`: the tunnel wire format v1, with no I/O. See docs/PROTOCOL.md.
 * @module
 */
export * from "./constants.js";
export * from "./errors.js";
export * from "./headers.js";
export * from "./frames.js";
export * from "./batch.js";
export * from "./stream-state.js";
export * from "./flow-control.js";
