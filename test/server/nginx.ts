/**
 * Debian's nginx as the reverse proxy in front of a gateway, for Node tests: a child
 * process on a free loopback port, config in a temp dir, WebSocket upgrades proxied to
 * `/tunnel` with `X-Forwarded-For: $proxy_add_x_forwarded_for` (what nginx setups do).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitForListening } from "../../tools/listening.js";

export interface Nginx {
  port: number;
  /** `ws://127.0.0.1:port/tunnel` through the proxy. */
  tunnelUrl: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startNginx(gatewayPort: number): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), "swtunnel-nginx-"));
  const port = await freePort();
  const conf = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /tunnel {
      proxy_pass http://127.0.0.1:${gatewayPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 60s;
    }
  }
}
`;
  await writeFile(join(dir, "nginx.conf"), conf);
  const child = spawn("/usr/sbin/nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Ready when the port accepts connections (bounded: nginx starts in well under a second).
  const ready = await waitForListening(port, { stopped: () => child.exitCode !== null, timeoutMs: 10_000 });
  if (ready === "stopped") throw new Error(`nginx exited (${child.exitCode}): ${stderr}`);
  if (ready === "timeout") {
    child.kill("SIGKILL");
    throw new Error(`nginx did not listen on ${port}: ${stderr}`);
  }
  return {
    port,
    tunnelUrl: `ws://127.0.0.1:${port}/tunnel`,
    async close() {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
