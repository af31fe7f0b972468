/**
 * Opening a MessagePort to the page's Service Worker.
 */
import { CONNECT_MESSAGE } from "../port/messages.js";

/** The worker to talk to: the page's controller, else the scope's active worker. */
export async function workerForPage(): Promise<ServiceWorker> {
  const container = navigator.serviceWorker;
  if (!container) throw new Error("swtunnel: this page has no Service Worker support (needs a secure context: https or localhost)");
  if (container.controller) return container.controller;
  const registration = await container.ready;
  if (!registration.active) throw new Error("swtunnel: no active Service Worker; call registerTunnel() first");
  return registration.active;
}

/** A fresh MessagePort served by the worker's port server (a transport shares it among calls). */
export async function openWorkerPort(): Promise<MessagePort> {
  const worker = await workerForPage();
  const channel = new MessageChannel();
  worker.postMessage({ type: CONNECT_MESSAGE, port: channel.port2 }, [channel.port2]);
  return channel.port1;
}

/** Calls `listener` whenever the page's controlling worker changes (no-op without Service Worker support). */
export function onControllerChange(listener: () => void): void {
  navigator.serviceWorker?.addEventListener("controllerchange", listener);
}
