import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Servers bind free loopback ports; files run in parallel on the 2 cores.
    pool: "forks",
    maxWorkers: 2,
  },
});
