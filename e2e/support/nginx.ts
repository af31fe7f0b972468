/**
 * Debian's nginx as an HTTP/1.1-only reverse proxy, run as a child process from a
 * config in a temp dir: the site and the gateway's WebSocket upgrade (proxy_http_version
 * 1.1 + Upgrade headers) and the gRPC backend through a plain HTTP/1.1 proxy_pass.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitForListening } from "../../tools/listening.js";
import { closedPort } from "./tcp-proxy.js";

export interface Nginx {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startNginx(opts: { sitePort: number; gatewayPort: number; grpcPort: number; port?: number }): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), "swtunnel-nginx-"));
  const port = opts.port ?? (await closedPort());
  const conf = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port};
    location = /tunnel {
      proxy_pass http://127.0.0.1:${opts.gatewayPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_read_timeout 300s;
    }
    location /swtunnel.test.v1.TestService/ {
      proxy_pass http://127.0.0.1:${opts.grpcPort};
      proxy_http_version 1.1;
    }
    location / {
      proxy_pass http://127.0.0.1:${opts.sitePort};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
    }
  }
}
`;
  await writeFile(join(dir, "nginx.conf"), conf);
  const child: ChildProcess = spawn("/usr/sbin/nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Ready when the port accepts connections.
  const ready = await waitForListening(port, { stopped: () => child.exitCode !== null, timeoutMs: 5_000 });
  if (ready === "stopped") throw new Error(`nginx exited (${child.exitCode}): ${stderr}`);
  if (ready === "timeout") throw new Error(`nginx did not listen on ${port}: ${stderr}`);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
