/**
 * BATCH (type 0x9): several frames in one WebSocket message. In use on a socket once both
 * ends announced FRAME_BATCHES = 1 in SETTINGS (docs/PROTOCOL.md 5.12); otherwise type 0x9
 * is an extension frame like any other. Each WebSocket message costs the browser a send
 * or a message event of its own, and a call is two to four frames, so a sender packs the
 * frames of one turn into as few messages as fit. Pure.
 *
 *   header: type 0x9 | flags 0 | stream id 0, then entries: length u32 | frame (length bytes)
 */
import { FRAME_HEADER_SIZE, FrameType, type Settings } from "./constants.js";
import { ErrorCode, ProtocolError } from "./errors.js";

/** Bytes an entry adds to a batch besides its frame: the u32 length. */
export const BATCH_ENTRY_OVERHEAD = 4;

/** Whether a socket whose ends announced these settings carries BATCH messages. */
export function batchesInUse(mine: Pick<Settings, "frameBatches">, peer: Pick<Settings, "frameBatches"> | undefined | null): boolean {
  return mine.frameBatches === 1 && peer?.frameBatches === 1;
}

/** Whether `message` is a BATCH (on a socket where batches are in use). */
export function isBatch(message: Uint8Array): boolean {
  return message.length > 0 && message[0] === FrameType.BATCH;
}

/** One BATCH message holding `frames` (each an encoded frame), in order. */
export function encodeBatch(frames: readonly Uint8Array[]): Uint8Array {
  let size = FRAME_HEADER_SIZE;
  for (const f of frames) size += BATCH_ENTRY_OVERHEAD + f.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = FrameType.BATCH;
  let at = FRAME_HEADER_SIZE;
  for (const f of frames) {
    view.setUint32(at, f.length);
    out.set(f, at + BATCH_ENTRY_OVERHEAD);
    at += BATCH_ENTRY_OVERHEAD + f.length;
  }
  return out;
}

/**
 * The frames of a BATCH message, in order (views into it). Throws ProtocolError (a socket
 * error) for flags or a stream id that are not 0, a payload over `maxPayload`, an entry
 * shorter than a frame header or running past the end, and a BATCH inside a BATCH.
 */
export function splitBatch(message: Uint8Array, maxPayload: number): Uint8Array[] {
  if (message.length < FRAME_HEADER_SIZE) {
    throw new ProtocolError(
      ErrorCode.FRAME_SIZE_ERROR,
      `BATCH of ${message.length} bytes is shorter than the ${FRAME_HEADER_SIZE}-byte header`,
    );
  }
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (view.getUint8(1) !== 0 || view.getUint32(2) !== 0) {
    throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "BATCH with flags or a stream id; both must be 0");
  }
  if (message.length - FRAME_HEADER_SIZE > maxPayload) {
    throw new ProtocolError(
      ErrorCode.FRAME_SIZE_ERROR,
      `BATCH payload of ${message.length - FRAME_HEADER_SIZE} bytes exceeds MAX_FRAME_PAYLOAD ${maxPayload}`,
    );
  }
  const frames: Uint8Array[] = [];
  let at = FRAME_HEADER_SIZE;
  while (at < message.length) {
    if (message.length - at < BATCH_ENTRY_OVERHEAD) {
      throw new ProtocolError(
        ErrorCode.FRAME_SIZE_ERROR,
        `BATCH entry at byte ${at}: ${message.length - at} bytes left, no room for its length`,
      );
    }
    const length = view.getUint32(at);
    const start = at + BATCH_ENTRY_OVERHEAD;
    if (length < FRAME_HEADER_SIZE || length > message.length - start) {
      throw new ProtocolError(
        ErrorCode.FRAME_SIZE_ERROR,
        `BATCH entry at byte ${at} of ${length} bytes: a frame is at least ${FRAME_HEADER_SIZE} bytes and must end within the message`,
      );
    }
    if (message[start] === FrameType.BATCH) throw new ProtocolError(ErrorCode.PROTOCOL_ERROR, "BATCH inside a BATCH");
    frames.push(message.subarray(start, start + length));
    at = start + length;
  }
  return frames;
}

/**
 * The messages to send for `frames` (encoded frames, in order) to a peer accepting
 * payloads up to `maxPayload`: consecutive frames share a BATCH while its payload fits, a
 * frame alone goes as itself. `count` is how many of `frames` each message carries.
 */
export function packFrames(frames: readonly Uint8Array[], maxPayload: number): Array<{ message: Uint8Array; count: number }> {
  const out: Array<{ message: Uint8Array; count: number }> = [];
  let group: Uint8Array[] = [];
  let size = 0;
  const close = () => {
    if (group.length === 1) out.push({ message: group[0]!, count: 1 });
    else if (group.length > 1) out.push({ message: encodeBatch(group), count: group.length });
    group = [];
    size = 0;
  };
  for (const f of frames) {
    const entry = BATCH_ENTRY_OVERHEAD + f.length;
    if (size + entry > maxPayload) close();
    group.push(f);
    size += entry;
  }
  close();
  return out;
}
