import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { locateWasmwsBuild } from "../../bench/wasmws.js";

describe("locateWasmwsBuild", () => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "swtunnel-wasmws-test-"));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const makeBuild = async (port: number) => {
    const demo = join(work, "demo");
    await mkdir(join(demo, "static"), { recursive: true });
    await writeFile(join(demo, "server"), "binary");
    await writeFile(join(demo, "static/index.html"), "<html></html>");
    await writeFile(join(demo, "static/client.wasm"), Buffer.from(`\0asm...ws://127.0.0.1:${port}/grpc-proxy...`, "latin1"));
    return demo;
  };

  it("reads the baked-in port from the demo directory or the work directory above it", async () => {
    const demo = await makeBuild(40999);
    expect(await locateWasmwsBuild(demo)).toEqual({ dir: demo, port: 40999 });
    expect(await locateWasmwsBuild(work)).toEqual({ dir: demo, port: 40999 });
  });

  it("takes an explicit port over the build's", async () => {
    const demo = await makeBuild(40999);
    expect(await locateWasmwsBuild(demo, 41000)).toEqual({ dir: demo, port: 41000 });
    await expect(locateWasmwsBuild(demo, 70000)).rejects.toThrow(/--wasmws-port must be a port number/);
  });

  it("names the missing file of a directory that is no build", async () => {
    await expect(locateWasmwsBuild(work)).rejects.toThrow(/server is missing; is it a build of \/work\/shared\/wasmws\/build\.sh/);
  });

  it("asks for --wasmws-port when the client holds no port", async () => {
    const demo = await makeBuild(1);
    await writeFile(join(demo, "static/client.wasm"), "no url here");
    await expect(locateWasmwsBuild(demo)).rejects.toThrow(/pass --wasmws-port/);
  });
});
