/**
 * The page<->worker MessagePort protocol, shared by the worker's port server (`sw/`) and
 * the page SDK (`page-sdk/`): messages, credit, the chunk queue, status types.
 * @module
 */
export * from "./messages.js";
export { ChunkQueue } from "./chunk-queue.js";
export type { PortLike } from "./port-like.js";
export { STATUS_CHANNEL, type StatusMessage, type TunnelCounters, type WorkerTunnelStatus } from "./status.js";
