/**
 * JSON <-> binary transcoding for Connect and gRPC-Web JSON clients in front of a pure
 * gRPC upstream, which only understands the binary Protobuf codec. Method schemas come
 * from a binary FileDescriptorSet (`buf build -o descriptors.binpb`).
 */
import {
  createFileRegistry,
  fromBinary,
  fromJsonString,
  toBinary,
  toJsonString,
  type DescFile,
  type DescMethod,
  type FileRegistry,
} from "@bufbuild/protobuf";
import * as wkt from "@bufbuild/protobuf/wkt";
import { FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

/** Translates the messages of the methods a descriptor set describes. */
export interface Transcoder {
  /** The method for a request path `/pkg.Service/Method`, or undefined when unknown. */
  method(path: string): DescMethod | undefined;
  /** A request message: JSON text to binary. Bad JSON is `invalid_argument`. */
  requestToBinary(method: DescMethod, json: Uint8Array): Uint8Array;
  /** A response message: binary to JSON text. Bad binary is `internal`. */
  responseToJson(method: DescMethod, binary: Uint8Array): Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Well-known types, so that a set built with `--exclude-imports` still resolves.
const wellKnownFiles = new Map<string, DescFile>(
  Object.values(wkt)
    .filter((v): v is DescFile => typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "file")
    .map((f) => [f.proto.name, f]),
);

/** Builds a transcoder from a binary FileDescriptorSet. Throws on malformed input. */
export function createTranscoder(descriptors: Uint8Array): Transcoder {
  const registry = loadRegistry(descriptors);
  const jsonRead = { registry, ignoreUnknownFields: false };
  const jsonWrite = { registry };
  return {
    method(path) {
      const m = /^\/([^/]+)\/([^/]+)$/.exec(path.split("?")[0]!);
      if (!m) return undefined;
      return registry.getService(m[1]!)?.methods.find((x) => x.name === m[2]);
    },
    requestToBinary(method, json) {
      let binary: Uint8Array;
      try {
        binary = toBinary(method.input, fromJsonString(method.input, decoder.decode(json), jsonRead));
      } catch (e) {
        throw new ConnectError(`cannot decode ${method.input.typeName} from JSON: ${errorMessage(e)}`, Code.InvalidArgument);
      }
      return binary;
    },
    responseToJson(method, binary) {
      try {
        return encoder.encode(toJsonString(method.output, fromBinary(method.output, binary), jsonWrite));
      } catch (e) {
        throw new ConnectError(`cannot transcode the upstream's ${method.output.typeName} to JSON: ${errorMessage(e)}`, Code.Internal);
      }
    },
  };
}

/** The `/pkg.Service/Method` paths of every method a descriptor set describes (for metric labels). */
export function descriptorMethods(descriptors: Uint8Array): Set<string> {
  const paths = new Set<string>();
  for (const desc of loadRegistry(descriptors)) {
    if (desc.kind === "service") for (const m of desc.methods) paths.add(`/${desc.typeName}/${m.name}`);
  }
  return paths;
}

function loadRegistry(bytes: Uint8Array): FileRegistry {
  let set: ReturnType<typeof fromBinary<typeof FileDescriptorSetSchema>>;
  try {
    set = fromBinary(FileDescriptorSetSchema, bytes);
  } catch (e) {
    throw new Error(`descriptors are not a binary FileDescriptorSet (build one with \`buf build -o FILE.binpb\`): ${errorMessage(e)}`);
  }
  const byName = new Map<string, FileDescriptorProto>(set.file.map((f) => [f.name, f]));
  const resolve = (name: string) => byName.get(name) ?? wellKnownFiles.get(name);
  return createFileRegistry(...set.file.map((f) => createFileRegistry(f, resolve)));
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
