// The page socket transport costs nothing to apps that do not import it: a page bundle of
// the page SDK's other exports is the same code, byte for byte, whether
// page-sdk/page-socket-transport.ts exists or is an empty stub. (esbuild, as in
// scripts/build-browser.mjs; other ESM bundlers tree-shake the same way.)
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Replaces page-socket-transport.ts with a module that exports an empty function. */
const stubPageSocket: Plugin = {
  name: "stub-page-socket",
  setup(b) {
    b.onLoad({ filter: /page-sdk[\\/]page-socket-transport\.ts$/ }, () => ({
      contents: "export function createPageSocketTransport() {}",
      loader: "ts",
    }));
  },
};

async function bundle(contents: string, plugins: Plugin[] = []) {
  const result = await build({
    absWorkingDir: root,
    stdin: { contents, resolveDir: root, loader: "ts", sourcefile: "app.ts" },
    bundle: true,
    treeShaking: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    legalComments: "none",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins,
  });
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  return {
    code: result.outputFiles[0]!.text,
    files: Object.keys(inputs).filter((f) => inputs[f]!.bytesInOutput > 0),
  };
}

describe("page SDK bundle", () => {
  it("an app using registerTunnel, createTunnelTransport and tunnelFetch carries none of the page socket", async () => {
    const app = `import { registerTunnel, createTunnelTransport, tunnelFetch } from "./page-sdk/index.ts";
      console.log(registerTunnel, createTunnelTransport, tunnelFetch);`;
    const real = await bundle(app);
    const stubbed = await bundle(app, [stubPageSocket]);
    expect(real.code).toBe(stubbed.code);
    expect(real.files.filter((f) => f.includes("tunnel-client") || f.includes("page-socket"))).toEqual([]);
  });

  it("an app using createPageSocketTransport carries the tunnel client", async () => {
    const { files } = await bundle(
      `import { createPageSocketTransport } from "./page-sdk/index.ts"; console.log(createPageSocketTransport);`,
    );
    expect(files).toEqual(
      expect.arrayContaining([
        "page-sdk/page-socket-transport.ts",
        "client/tunnel-client.ts",
        "client/session.ts",
        "client/connect-transport.ts",
      ]),
    );
  });
});
