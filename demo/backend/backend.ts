/** The handle every backend starter returns. */
import type { Recorder } from "./recorder.js";

/** A running backend server. */
export interface Backend {
  /** Base URL, e.g. "http://127.0.0.1:43123" (https for TLS). */
  url: string;
  host: string;
  port: number;
  /** What the backend saw per request id (also readable through TestService.Inspect). */
  recorder: Recorder;
  /** Stops the server quickly: graceful first, forced after a short grace period. */
  close(): Promise<void>;
}

/** Where a backend listens. */
export interface ListenOptions {
  /** Default "127.0.0.1". */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Recorder to use; a new one by default. */
  recorder?: Recorder;
}

/** How long close() waits for calls to finish before it cuts them. */
export const closeGraceMs = 1000;
