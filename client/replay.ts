/**
 * GOAWAY replay, in one place: which calls a gateway's GOAWAY lets the client send again on
 * a new socket, what is kept so that it can, and when a call must fail instead.
 *
 * 1. Which calls: a GOAWAY names the last stream the gateway processed (`lastStreamId`).
 *    Streams above it were never processed (docs/PROTOCOL.md), so they may run again
 *    elsewhere ({@link unprocessedBy}); streams at or below it finish on the old socket.
 * 2. What is kept: a body given as bytes is its own copy and is always replayable. For a
 *    body given as an iterable (Connect-ES hands over even unary bodies that way), every
 *    chunk sent is kept ({@link ReplayBuffer}) until the response head arrives (the gateway
 *    took the call: nothing will be replayed) or until more than {@link MAX_REPLAY_BYTES}
 *    were sent (then nothing is kept).
 * 3. When a call may be replayed: its body is bytes, or nothing of it was sent yet, or all
 *    of what was sent is still kept. It then restarts from its first byte, ahead of calls
 *    that were queued after it ({@link replayOrFail}).
 * 4. Otherwise it fails with `unavailable` ({@link notReplayableError}).
 *
 * A socket that was lost (not drained) replays nothing: its calls may have reached the
 * backend. Only "gateway unreachable" errors are safe to retry (errors.ts).
 */
import { Code } from "./code.js";
import { TunnelError } from "./errors.js";

/** Bytes of an iterable request body kept after they were sent; beyond this a call cannot move once bytes left. */
// A literal, not `1 << 20`: bundlers keep a shift in a page bundle that does not use it (see page-sdk/page-socket-transport.ts).
export const MAX_REPLAY_BYTES = 1_048_576; // 1 MiB

/** True when a GOAWAY naming `lastStreamId` says the gateway never processed stream `streamId`. */
export function unprocessedBy(lastStreamId: number, streamId: number): boolean {
  return streamId > lastStreamId;
}

/**
 * The sent chunks of an iterable request body, kept for a replay while the body may still
 * need one: until {@link accepted}, and while no more than `limit` bytes were sent.
 */
export class ReplayBuffer {
  private kept: Uint8Array[] | null = [];
  /** Bytes sent since the start (or the last {@link rewind}), kept or not. */
  private sentBytes = 0;

  constructor(private readonly limit: number = MAX_REPLAY_BYTES) {}

  /** `chunk` was handed to a stream. */
  sent(chunk: Uint8Array): void {
    this.sentBytes += chunk.length;
    if (this.kept === null) return;
    if (this.sentBytes > this.limit) this.kept = null;
    else this.kept.push(chunk);
  }

  /** The gateway took the call (its response began): nothing needs keeping any more. */
  accepted(): void {
    this.kept = null;
  }

  /** True when everything sent so far can be sent again (nothing was sent, or all of it is kept). */
  get intact(): boolean {
    return this.sentBytes === 0 || this.kept !== null;
  }

  /**
   * Hands back the kept chunks, in order, to be sent again, and starts counting afresh.
   * Empty (and nothing changes) when nothing is kept.
   */
  rewind(): Uint8Array[] {
    if (this.kept === null || this.kept.length === 0) return [];
    const chunks = this.kept;
    this.kept = [];
    this.sentBytes = 0;
    return chunks;
  }
}

/** A request body as replay sees it (a BodySource). */
export interface ReplayableBody {
  /** True when the whole body can be sent again from its start. */
  readonly replayable: boolean;
  /** Restarts the body from its first byte; only when `replayable`. */
  rewind(): void;
}

/** Why an unprocessed call cannot be replayed. */
export function notReplayableError(): TunnelError {
  return new TunnelError(
    "the tunnel gateway went away before processing this call, and its streaming request body cannot be sent again",
    Code.Unavailable,
  );
}

/**
 * Handles the calls a GOAWAY left unprocessed: those whose body can be sent again are
 * rewound and returned, in their order, to run again first; the others get
 * {@link notReplayableError} through `fail`.
 */
export function replayOrFail<T extends { readonly source: ReplayableBody }>(
  unprocessed: readonly T[],
  fail: (call: T, error: TunnelError) => void,
): T[] {
  const replay: T[] = [];
  for (const call of unprocessed) {
    if (call.source.replayable) {
      call.source.rewind();
      replay.push(call);
    } else fail(call, notReplayableError());
  }
  return replay;
}
