/**
 * What the DevTools Protocol client (cdp.ts) and the WebDriver BiDi client (bidi.ts) share:
 * JSON commands over one WebSocket, each answered by the reply with its id, and events by
 * method name. Each protocol parses its own message shapes and errors.
 */

/** What a connection needs of a socket (a `ws` WebSocket; a fake one in unit tests). */
export interface RpcSocketLike {
  send(data: string): void;
  close(): void;
  on(event: "message", listener: (data: unknown) => void): unknown;
  on(event: "close", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** Commands with id-matched replies, and event listeners, over one socket. */
export abstract class RpcSocket<Listener extends (...args: never[]) => void> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private closedError: Error | undefined;

  /** `closedMessage` is what pending and later commands fail with once the socket closed. */
  constructor(
    private readonly socket: RpcSocketLike,
    closedMessage: string,
  ) {
    socket.on("message", (data) => this.onMessage(String(data)));
    socket.on("close", () => this.failAll(new Error(closedMessage)));
    socket.on("error", (error) => this.failAll(error));
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on(method: string, listener: Listener): () => void {
    let set = this.listeners.get(method);
    if (!set) {
      set = new Set();
      this.listeners.set(method, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Closes the socket; pending commands fail. */
  close(): void {
    this.socket.close();
  }

  /** Sends the message `build(id)` makes for a new command id; settles with its reply. */
  protected command<T>(method: string, build: (id: number) => object): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject });
      this.socket.send(JSON.stringify(build(id)));
    });
  }

  /** Settles command `id` with `result`, or with the error `toError` makes from its method. */
  protected reply(id: number, result: unknown, toError?: (method: string) => Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (toError) pending.reject(toError(pending.method));
    else pending.resolve(result);
  }

  /** Calls the listeners of event `method`. */
  protected emit(method: string, ...args: Parameters<Listener>): void {
    const set = this.listeners.get(method);
    if (set) for (const listener of [...set]) listener(...args);
  }

  /** Fails every pending command and every later one with `error`. */
  protected failAll(error: Error): void {
    this.closedError ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  /** Parses one message of the protocol: a reply (see {@link reply}) or an event ({@link emit}). */
  protected abstract onMessage(text: string): void;
}
