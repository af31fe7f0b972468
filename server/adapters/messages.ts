/** Per-message work on enveloped streams, for JSON transcoding. */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { decompress, isIdentity } from "./compression.js";
import { compressedFlag, encodeEnvelope, transformSplitEnvelope } from "./connect-internals.js";
import type { Transcoder } from "./transcode.js";

/** What a client sees when it sends JSON and the gateway has no descriptors. */
export const noDescriptorsMessage =
  "JSON to a gRPC upstream needs descriptors: pass --descriptors FILE (a binary FileDescriptorSet from `buf build -o`) or use the binary (proto) codec";

/**
 * The method a JSON request needs transcoded. Fails with `failed_precondition` without
 * descriptors, `unimplemented` for a method the descriptors do not describe.
 */
export function jsonMethod(transcoder: Transcoder | undefined, path: string): DescMethod {
  if (!transcoder) throw new ConnectError(noDescriptorsMessage, Code.FailedPrecondition);
  const method = transcoder.method(path);
  if (!method) {
    throw new ConnectError(
      `${path.split("?")[0]} is not a method in the gateway's descriptors; rebuild them with \`buf build -o\``,
      Code.Unimplemented,
    );
  }
  return method;
}

/** Decompresses one envelope's payload according to its flags and the stream's encoding. */
export function envelopePayload(flags: number, data: Uint8Array, encoding: string | undefined, maxBytes: number): Uint8Array {
  if ((flags & ~compressedFlag) !== 0) {
    throw new ConnectError(`unexpected envelope flags 0x${flags.toString(16)} in a message stream`, Code.Internal);
  }
  if ((flags & compressedFlag) === 0) return data;
  if (isIdentity(encoding)) {
    throw new ConnectError("compressed message on a stream without a message encoding", Code.Internal);
  }
  return decompress(encoding, data, maxBytes);
}

/**
 * Rewrites every enveloped message of a stream with `convert` (after decompressing it);
 * the output messages are uncompressed. Streams message by message.
 */
export async function* mapMessages(
  body: AsyncIterable<Uint8Array>,
  convert: (data: Uint8Array) => Uint8Array,
  encoding: string | undefined,
  maxBytes: number,
): AsyncIterable<Uint8Array> {
  for await (const env of transformSplitEnvelope(maxBytes)(body)) {
    yield encodeEnvelope(0, convert(envelopePayload(env.flags, env.data, encoding, maxBytes)));
  }
}
