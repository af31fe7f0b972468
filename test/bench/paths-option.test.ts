import { describe, expect, it } from "vitest";
import { usage, main } from "../../bench/run.js";

describe("npm run bench --paths", () => {
  it("lists the page's own socket and the in-process paths in --help", () => {
    const line = usage.split("\n").find((l) => l.trimStart().startsWith("--paths"));
    expect(line).toBeDefined();
    for (const path of ["page-socket", "page-sdk-inproc", "page-socket-inproc", "page-sdk"]) {
      expect(line?.split(/[ ,]/)).toContain(path);
    }
  });

  it("refuses an unknown path by name before starting anything", async () => {
    await expect(main(["--paths", "page-socket-inproc,page-socket-in-proc"])).rejects.toThrow(
      /^--paths takes .*page-socket-inproc.*; got page-socket-in-proc$/,
    );
  });
});
