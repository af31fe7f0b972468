import { ReplayBuffer } from "./replay.js";

/**
 * A request body as the stream pump reads it: bytes are pulled from the caller's iterable
 * only when the pump asks, buffered until sent, and counted, so a call can move to a new
 * socket after GOAWAY as long as its sent bytes were kept (or the body is plain bytes).
 * What is kept and for how long is replay.ts's {@link ReplayBuffer}.
 */
export class BodySource {
  private chunks: Uint8Array[] = [];
  private ended = false;
  private pulling: Promise<void> | null = null;
  private iterator: AsyncIterator<Uint8Array> | null = null;
  /** Taken bytes of an iterable body, kept for a replay (null for a bytes body, its own copy). */
  private readonly replay: ReplayBuffer | null;
  /** The chunk {@link lookahead} last waited for. */
  private lookedAhead: Uint8Array | null = null;

  private constructor(
    private readonly bytes: Uint8Array | null,
    private readonly iterable: AsyncIterable<Uint8Array> | null,
  ) {
    this.replay = bytes === null ? new ReplayBuffer() : null;
    this.rewind();
  }

  static from(body: AsyncIterable<Uint8Array> | Uint8Array | null | undefined): BodySource {
    if (body == null) return new BodySource(new Uint8Array(0), null);
    if (body instanceof Uint8Array) return new BodySource(body, null);
    return new BodySource(null, body);
  }

  /** True when the body is known to be empty without pulling anything. */
  get emptyKnown(): boolean {
    return this.bytes !== null && this.bytes.length === 0;
  }

  /** True when the whole body can be sent again from its start on a new stream. */
  get replayable(): boolean {
    return this.replay === null || this.replay.intact;
  }

  /** The gateway took the call (its response began): sent bytes need not be kept any more. */
  accepted(): void {
    this.replay?.accepted();
  }

  /** Restarts the body from its first byte, if `replayable`. */
  rewind(): void {
    if (this.bytes === null) {
      const kept = this.replay!.rewind();
      if (kept.length > 0) this.chunks = [...kept, ...this.chunks];
      return;
    }
    this.chunks = this.bytes.length > 0 ? [this.bytes] : [];
    this.ended = true;
  }

  /**
   * The next unsent bytes (non-empty), or null at the end of the body. Pulls from the
   * iterable at most once at a time; concurrent callers share the pull.
   */
  async peek(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.chunks.length > 0) return this.chunks[0]!;
      if (this.ended) return null;
      if (!this.pulling) this.pulling = this.pull();
      await this.pulling;
    }
  }

  /** True when every byte was taken and the end of the body is known. */
  get exhausted(): boolean {
    return this.ended && this.chunks.length === 0;
  }

  /** Takes up to `n` bytes of the chunk `peek()` returned. */
  take(n: number): Uint8Array {
    const head = this.chunks[0]!;
    let out = head;
    if (n >= head.length) this.chunks.shift();
    else {
      this.chunks[0] = head.subarray(n);
      out = head.subarray(0, n);
    }
    this.replay?.sent(out);
    return out;
  }

  /**
   * When the one chunk left is the last buffered one of an iterable and its end is not
   * known yet, gives the iterable until the end of this event-loop turn to report the end,
   * so that chunk's DATA frame can carry END_STREAM (Connect hands even a unary body over
   * as an iterable, which reports its end a few microtasks after its one chunk). Once per
   * chunk, Node only (where `setImmediate` marks the turn). True when it waited.
   */
  async lookahead(): Promise<boolean> {
    const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
    const chunk = this.chunks[0];
    if (!immediate || this.ended || this.chunks.length !== 1 || this.lookedAhead === chunk) return false;
    this.lookedAhead = chunk!;
    this.pulling ??= this.pull();
    await Promise.race([this.pulling, new Promise<void>((resolve) => immediate(resolve))]);
    return true;
  }

  /** Stops the caller's iterable (the call ended early). */
  cancel(): void {
    this.ended = true;
    this.chunks = [];
    const it = this.iterator;
    this.iterator = null;
    if (it?.return) void Promise.resolve(it.return()).catch(() => {});
  }

  private async pull(): Promise<void> {
    try {
      this.iterator ??= this.iterable![Symbol.asyncIterator]();
      const r = await this.iterator.next();
      if (r.done) this.ended = true;
      else if (!(r.value instanceof Uint8Array)) throw new TypeError("request body chunks must be Uint8Array");
      else if (r.value.length > 0 && !this.ended) this.chunks.push(r.value);
    } finally {
      this.pulling = null;
    }
  }
}
