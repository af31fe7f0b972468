/**
 * What a backend saw per request id: whether a call with that id arrived, whether it was
 * cancelled while the handler ran, and the deadline it carried. Tests in other processes
 * read it through TestService.Inspect; tests in the same process use it directly.
 */

/** The record kept for one request id. */
export interface CallRecord {
  seen: boolean;
  cancelled: boolean;
  /** Remaining deadline in milliseconds when the call arrived, -1 if none. */
  timeoutMs: number;
  /** Stream messages handed to the transport (ServerStream, Bidi). */
  messagesSent: number;
}

/** Limits of a {@link Recorder}. */
export interface RecorderOptions {
  /** Oldest ids are forgotten beyond this many, so a long benchmark keeps bounded memory. */
  maxIds?: number;
}

const defaultMaxIds = 10_000;

/** Per-id record of seen / cancelled / timeout, shared by the grpc-js and Connect backends. */
export class Recorder {
  private readonly records = new Map<string, CallRecord>();
  private readonly cancelWaiters = new Map<string, Set<() => void>>();
  private readonly maxIds: number;

  constructor(options: RecorderOptions = {}) {
    this.maxIds = options.maxIds ?? defaultMaxIds;
  }

  /** Records that a call with `id` arrived with the given remaining deadline (undefined = none). */
  seen(id: string, timeoutMs: number | undefined): void {
    if (id === "") return;
    const record = this.records.get(id) ?? { seen: false, cancelled: false, timeoutMs: -1, messagesSent: 0 };
    record.seen = true;
    record.timeoutMs = timeoutMs === undefined ? -1 : Math.max(0, Math.round(timeoutMs));
    this.store(id, record);
  }

  /** Records that the call with `id` was cancelled (client abort, reset or deadline) while running. */
  cancelled(id: string): void {
    if (id === "") return;
    const record = this.records.get(id) ?? { seen: true, cancelled: false, timeoutMs: -1, messagesSent: 0 };
    record.cancelled = true;
    this.store(id, record);
    const waiters = this.cancelWaiters.get(id);
    if (waiters) {
      this.cancelWaiters.delete(id);
      for (const wake of waiters) wake();
    }
  }

  /** Counts one stream message handed to the transport for `id`. */
  sent(id: string): void {
    const record = this.records.get(id);
    if (record) record.messagesSent++;
  }

  /** The record for `id`; an unknown id gives seen=false, cancelled=false, timeoutMs=-1, messagesSent=0. */
  get(id: string): CallRecord {
    const record = this.records.get(id);
    return record ? { ...record } : { seen: false, cancelled: false, timeoutMs: -1, messagesSent: 0 };
  }

  /** Resolves true as soon as a cancel is recorded for `id`, false after `timeoutMs` without one. */
  waitForCancel(id: string, timeoutMs: number): Promise<boolean> {
    if (this.records.get(id)?.cancelled) return Promise.resolve(true);
    return new Promise((resolve) => {
      let waiters = this.cancelWaiters.get(id);
      if (!waiters) {
        waiters = new Set();
        this.cancelWaiters.set(id, waiters);
      }
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        if (waiters.size === 0 && this.cancelWaiters.get(id) === waiters) this.cancelWaiters.delete(id);
        resolve(false);
      }, timeoutMs);
      waiters.add(wake);
    });
  }

  /** Forgets every record (pending waitForCancel calls keep waiting). */
  clear(): void {
    this.records.clear();
  }

  private store(id: string, record: CallRecord): void {
    // Re-insert so Map order is recency order; evict the oldest beyond the limit.
    this.records.delete(id);
    this.records.set(id, record);
    while (this.records.size > this.maxIds) {
      const oldest = this.records.keys().next().value;
      if (oldest === undefined) break;
      this.records.delete(oldest);
    }
  }
}
