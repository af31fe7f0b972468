/**
 * Credit-based flow control, as in HTTP/2: only DATA payload bytes count. Each end keeps a
 * send window (credit granted by the peer) and a receive window (credit it granted) per
 * stream and per socket. Pure bookkeeping; the sessions do the I/O.
 */
import { MAX_WINDOW } from "./constants.js";
import { ErrorCode, ProtocolError } from "./errors.js";

/** Credit we may spend sending DATA. */
export class SendWindow {
  constructor(private available: number) {}

  /** Bytes that may be sent now. */
  get size(): number {
    return this.available;
  }

  /** Spends credit for `n` bytes about to be sent; the caller checked `size` first. */
  consume(n: number): void {
    if (n > this.available) throw new ProtocolError(ErrorCode.INTERNAL_ERROR, `sending ${n} bytes with only ${this.available} of credit`);
    this.available -= n;
  }

  /** Applies a WINDOW_UPDATE. Throws FLOW_CONTROL_ERROR if the window would pass 2^31-1. */
  credit(increment: number, streamId = 0): void {
    if (this.available + increment > MAX_WINDOW) {
      throw new ProtocolError(ErrorCode.FLOW_CONTROL_ERROR, `window update of ${increment} overflows the window`, streamId);
    }
    this.available += increment;
  }
}

/** Credit we granted the peer, and when to grant more. */
export class ReceiveWindow {
  private available: number;
  private consumed = 0;

  /**
   * @param initial the window announced in SETTINGS.
   * @param threshold send a WINDOW_UPDATE once this many bytes were consumed (default: half).
   */
  constructor(
    private readonly initial: number,
    private readonly threshold = Math.max(1, Math.floor(initial / 2)),
  ) {
    this.available = initial;
  }

  /** Bytes the peer may still send. */
  get size(): number {
    return this.available;
  }

  /** Records `n` received bytes. Throws FLOW_CONTROL_ERROR if the peer overran the window. */
  receive(n: number, streamId = 0): void {
    if (n > this.available) {
      throw new ProtocolError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `peer sent ${n} bytes of DATA with only ${this.available} of window left (initial ${this.initial})`,
        streamId,
      );
    }
    this.available -= n;
  }

  /**
   * Records that the application consumed `n` bytes. Returns the increment to announce in
   * a WINDOW_UPDATE now, or 0 while below the threshold.
   */
  release(n: number): number {
    this.consumed += n;
    if (this.consumed < this.threshold) return 0;
    const increment = this.consumed;
    this.consumed = 0;
    this.available += increment;
    return increment;
  }

  /**
   * Records `n` consumed bytes and returns everything consumed since the last update, below
   * the threshold too (credit for DATA on a forgotten stream goes back at once, section 8.2).
   */
  releaseNow(n: number): number {
    this.consumed += n;
    const increment = this.consumed;
    this.consumed = 0;
    this.available += increment;
    return increment;
  }
}
