#!/usr/bin/env node
/**
 * The `swtunnel` bin. It first checks the Node version against package.json's engines,
 * importing nothing else, so that an old Node gets a clear refusal (exit 1) rather than
 * whatever a newer API or syntax would throw; then it loads and runs the CLI (cli-run.ts).
 */
import { unsupportedNode } from "./node-version.js";
import { ownPackageJson } from "./package-json.js";

const refusal = unsupportedNode(process.versions.node, ownPackageJson().engines?.node);
if (refusal) {
  console.error(refusal);
  process.exitCode = 1;
} else {
  const { run } = await import("./cli-run.js");
  await run();
}
