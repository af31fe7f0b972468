// docs/PROTOCOL.md and protocol/*.ts must agree: every constant is in the tables and the
// worked examples are the encoder's real bytes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_SETTINGS,
  ErrorCode,
  FrameType,
  MAX_MAX_FRAME_PAYLOAD,
  MIN_MAX_FRAME_PAYLOAD,
  SUBPROTOCOL,
  SettingId,
  encodeFrame,
  type Settings,
} from "../../protocol/index.js";

const doc = readFileSync(new URL("../../docs/PROTOCOL.md", import.meta.url), "utf8");
const hex = (bytes: Uint8Array) => {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16)
    lines.push(Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, "0")).join(" "));
  return lines.join("\n");
};

describe("docs/PROTOCOL.md", () => {
  it("lists every error code with its value", () => {
    for (const [name, value] of Object.entries(ErrorCode)) expect(doc).toContain(`| \`0x${value.toString(16)}\` | ${name} |`);
  });

  it("lists every frame type with its value", () => {
    for (const [name, value] of Object.entries(FrameType)) expect(doc).toContain(`| \`0x${value.toString(16)}\` | ${name} |`);
  });

  it("lists every setting with its id and default", () => {
    const keys: Record<keyof typeof SettingId, keyof Settings> = {
      VERSION: "version",
      MAX_CONCURRENT_STREAMS: "maxConcurrentStreams",
      INITIAL_STREAM_WINDOW: "initialStreamWindow",
      INITIAL_CONNECTION_WINDOW: "initialConnectionWindow",
      MAX_FRAME_PAYLOAD: "maxFramePayload",
      PING_INTERVAL_MS: "pingIntervalMs",
      FRAME_BATCHES: "frameBatches",
    };
    for (const [name, id] of Object.entries(SettingId)) {
      expect(doc).toContain(`| \`0x${id.toString(16)}\` | ${name} | ${DEFAULT_SETTINGS[keys[name as keyof typeof SettingId]]}`);
    }
    expect(doc).toContain(`${MIN_MAX_FRAME_PAYLOAD} (16 KiB) .. ${MAX_MAX_FRAME_PAYLOAD} (16 MiB)`);
    expect(doc).toContain(`\`${SUBPROTOCOL}\``);
  });

  it("shows the encoder's real bytes in the worked examples", () => {
    const examples = [
      encodeFrame({
        kind: "request-headers",
        streamId: 1,
        endStream: false,
        method: "POST",
        path: "/eliza.v1.ElizaService/Say",
        headers: [
          ["content-type", "application/proto"],
          ["connect-protocol-version", "1"],
        ],
      }),
      encodeFrame({ kind: "data", streamId: 1, endStream: true, data: Uint8Array.of(0x0a, 0x02, 0x68, 0x69) }),
      encodeFrame({ kind: "settings", settings: { ...DEFAULT_SETTINGS } }),
      encodeFrame({ kind: "trailers", streamId: 1, trailers: [["grpc-status", "0"]] }),
    ];
    for (const bytes of examples) expect(doc).toContain(`\`\`\`\n${hex(bytes)}\n\`\`\``);
    expect(examples[0]!.length).toBe(107);
  });
});
