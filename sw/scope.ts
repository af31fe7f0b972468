/**
 * The few Service Worker global-scope interfaces the worker runtime uses. The repo's
 * tsconfig has lib DOM (not WebWorker), so these are declared here, structurally, and
 * a real `ServiceWorkerGlobalScope` satisfies them.
 */

/** An event whose lifetime the worker can extend. */
export interface ExtendableEventLike extends Event {
  waitUntil(promise: Promise<unknown>): void;
}

/** The `fetch` event of a Service Worker. */
export interface FetchEventLike extends ExtendableEventLike {
  readonly request: Request;
  readonly clientId: string;
  readonly resultingClientId?: string;
  respondWith(response: Response | Promise<Response>): void;
}

/** The `message` event a page's `postMessage` raises in the worker. */
export interface ExtendableMessageEventLike extends ExtendableEventLike {
  readonly data: unknown;
  readonly ports: ReadonlyArray<MessagePort>;
  readonly source: ClientLike | ServiceWorker | MessagePort | null;
}

/** A window (or worker) the Service Worker controls. */
export interface ClientLike {
  readonly id: string;
  readonly url: string;
  readonly type?: string;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

/** `self.clients`. */
export interface ClientsLike {
  get(id: string): Promise<ClientLike | undefined>;
  matchAll(options?: { includeUncontrolled?: boolean; type?: string }): Promise<ReadonlyArray<ClientLike>>;
  claim(): Promise<void>;
}

/** `self` in a Service Worker, as far as swtunnel needs it. */
export interface WorkerScopeLike {
  readonly location: { readonly href: string; readonly origin: string; readonly protocol: string; readonly host: string };
  readonly clients: ClientsLike;
  skipWaiting?(): Promise<void>;
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
  addEventListener(type: "fetch", listener: (event: FetchEventLike) => void): void;
  addEventListener(type: "message", listener: (event: ExtendableMessageEventLike) => void): void;
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEventLike) => void): void;
}
