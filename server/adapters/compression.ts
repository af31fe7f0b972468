/**
 * Message decompression, needed only where the adapter must read a message (JSON
 * transcoding). Everywhere else compressed messages pass through with their encoding.
 */
import { gunzipSync, inflateSync } from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";

/** True for an absent or `identity` encoding. */
export function isIdentity(encoding: string | undefined): boolean {
  return encoding === undefined || encoding === "" || encoding.toLowerCase() === "identity";
}

/** Decompresses one message; the output may not exceed `maxBytes`. */
export function decompress(encoding: string | undefined, data: Uint8Array, maxBytes: number): Uint8Array {
  if (isIdentity(encoding)) return data;
  const options = { maxOutputLength: maxBytes };
  try {
    switch (encoding!.toLowerCase()) {
      case "gzip":
        return gunzipSync(data, options);
      case "deflate":
        return inflateSync(data, options);
    }
  } catch (e) {
    const tooLarge = (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
    throw new ConnectError(
      tooLarge
        ? `decompressed message is larger than the gateway's limit of ${maxBytes} bytes`
        : `cannot decompress ${encoding} message: ${String(e)}`,
      tooLarge ? Code.ResourceExhausted : Code.InvalidArgument,
    );
  }
  throw new ConnectError(`message encoding "${encoding}" is not supported with JSON transcoding; use gzip or identity`, Code.Unimplemented);
}
