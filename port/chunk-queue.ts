/**
 * A single-consumer async queue of byte chunks: the producer pushes as messages arrive,
 * the consumer iterates; `onConsumed` reports each chunk handed out (to return credit).
 */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(private readonly onConsumed: (bytes: number) => void = () => {}) {}

  push(chunk: Uint8Array): void {
    if (this.ended || this.failure !== undefined) return;
    this.chunks.push(chunk);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(reason: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    this.notify();
  }

  get isDone(): boolean {
    return this.ended || this.failure !== undefined;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const chunk = this.chunks.shift();
      if (chunk) {
        this.onConsumed(chunk.byteLength);
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
