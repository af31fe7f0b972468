# The swtunnel gateway image. Linted in CI (test/deploy/dockerfile.test.ts), not built
# there: see docs/DEPLOY.md. Build: docker build -t swtunnel .
# Run:   docker run -p 8080:8080 swtunnel gateway --upstream http://backend:50051

# Build stage: compile, then pack exactly what npm would publish.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm pack --pack-destination /tmp && mv /tmp/swtunnel-*.tgz /tmp/swtunnel.tgz

# Runtime stage: the packed package and its production dependencies only.
FROM node:24-slim
ENV NODE_ENV=production \
    SWTUNNEL_LISTEN=0.0.0.0:8080
WORKDIR /app
COPY --from=build /tmp/swtunnel.tgz /tmp/swtunnel.tgz
RUN npm install --omit=dev --no-audit --no-fund /tmp/swtunnel.tgz && rm /tmp/swtunnel.tgz && npm cache clean --force
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 8080
# /healthz stays on the public port (the admin listener, when set, serves it too). No
# --start-period: dockerfilelint 1.8 misreads it, and the gateway listens within a second.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself, so `docker stop` and Kubernetes
# start the gateway's drain (GOAWAY, /readyz 503) and it exits 0 when done.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/node_modules/swtunnel/dist/server/cli.js"]
CMD ["gateway", "--help"]
