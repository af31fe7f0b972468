/**
 * The part of a `MessagePort` both ends of the page<->worker protocol use. Tests pass one
 * half of a Node `MessageChannel`; browsers pass a real `MessagePort`.
 */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  start?(): void;
  close(): void;
}
