/** A TCP port that was free on 127.0.0.1 a moment ago, for a child that cannot listen on port 0 itself. */
import { createServer } from "node:net";

/** Binds port 0, reads the port the kernel gave, and releases it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
