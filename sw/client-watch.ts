/**
 * Notices that the page behind a carried fetch went away (tab closed, navigated, crashed)
 * while its call still runs, so the call can be cancelled at the backend.
 *
 * Needed because a page's `AbortController.abort()` and its going away do not reach a
 * Service Worker's `respondWith` in Chromium and Firefox: `request.signal` never fires
 * there, and before the response head there is no body for the page to cancel
 * (docs/DECISIONS.md, "Abort and worker lifetime in every engine"). One timer polls
 * `clients.get` for the watched client ids, only while some are watched.
 */
import type { ClientsLike } from "./scope.js";

/** How often a watched client is looked up. */
export const CLIENT_WATCH_MS = 2_000;

export class ClientWatch {
  private readonly watched = new Map<string, Set<() => void>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling = false;

  constructor(
    private readonly clients: Pick<ClientsLike, "get">,
    private readonly intervalMs = CLIENT_WATCH_MS,
  ) {}

  /**
   * Calls `onGone` once when the client `clientId` no longer exists. Returns the function
   * that stops watching (call it when the call ends). An empty id (no client) is not watched.
   */
  watch(clientId: string, onGone: () => void): () => void {
    if (clientId === "") return () => {};
    let set = this.watched.get(clientId);
    if (!set) this.watched.set(clientId, (set = new Set()));
    set.add(onGone);
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    return () => this.remove(clientId, onGone);
  }

  /** Number of calls being watched. */
  get size(): number {
    let n = 0;
    for (const set of this.watched.values()) n += set.size;
    return n;
  }

  private remove(clientId: string, onGone: () => void): void {
    const set = this.watched.get(clientId);
    if (!set) return;
    set.delete(onGone);
    if (set.size === 0) this.watched.delete(clientId);
    if (this.watched.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const clientId of [...this.watched.keys()]) {
        let alive: boolean;
        try {
          alive = (await this.clients.get(clientId)) !== undefined;
        } catch {
          alive = true; // Unknown: keep the call.
        }
        if (alive) continue;
        for (const onGone of [...(this.watched.get(clientId) ?? [])]) {
          this.remove(clientId, onGone);
          onGone();
        }
      }
    } finally {
      this.polling = false;
    }
  }
}
