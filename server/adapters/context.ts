/** What the gRPC-upstream adapters share: limits and the optional JSON transcoder. */
import type { Transcoder } from "./transcode.js";

export interface AdapterContext {
  /** Largest single message the gateway reads whole (unary bodies, transcoded messages). */
  maxMessageBytes: number;
  /** Present when descriptors were given: lets JSON clients reach a pure gRPC upstream. */
  transcoder?: Transcoder | undefined;
}

/** 4 MiB, gRPC's default receive limit. */
export const defaultMaxMessageBytes = 4 * 1024 * 1024;
