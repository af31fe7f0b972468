/**
 * Message size limit for one direction of one stream (pure). Enveloped bodies (gRPC,
 * gRPC-Web binary, Connect streaming: 1 flag byte + u32 length + message) are checked per
 * message from each envelope's declared length, before the message arrives; other bodies
 * are checked as a whole.
 */

export { isEnveloped } from "./content-type.js";

export class MessageLimit {
  /** Bytes still to skip of the current message payload. */
  private remaining = 0;
  /** Prefix bytes collected so far (0..5). */
  private readonly prefix = new Uint8Array(5);
  private prefixLength = 0;
  private total = 0;

  /**
   * @param limit largest message in bytes (0 = unlimited).
   * @param enveloped see `isEnveloped` in content-type.ts.
   */
  constructor(
    private readonly limit: number,
    private readonly enveloped: boolean,
  ) {}

  /** Accounts for `chunk`; returns a description of the breach, or undefined. */
  push(chunk: Uint8Array): string | undefined {
    if (this.limit === 0) return undefined;
    if (!this.enveloped) {
      this.total += chunk.length;
      return this.total > this.limit ? `body of more than ${this.limit} bytes exceeds the message limit` : undefined;
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      this.prefix[this.prefixLength++] = chunk[i++]!;
      if (this.prefixLength === 5) {
        this.prefixLength = 0;
        const length = new DataView(this.prefix.buffer).getUint32(1);
        if (length > this.limit) return `message of ${length} bytes exceeds the limit of ${this.limit}`;
        this.remaining = length;
      }
    }
    return undefined;
  }
}
