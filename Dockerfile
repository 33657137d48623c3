# syntax=docker/dockerfile:1
# One image for every role: `outrigger sidecar | control-plane | collector | inject | probe` (docs/kubernetes.md).
# Expected size: ~250 MB uncompressed, ~90 MB compressed (node:20 bookworm-slim base ~195 MB, production
# node_modules ~54 MB, dist + web ~2 MB). The base is pinned by exact version; pin by digest in your registry.

# ---- build: all dependencies, TypeScript -> dist/, dashboard libraries -> web/vendor ----
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Without scripts: `prepare` (= build) needs the sources, which come next, so this layer caches on the lock file.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY schema ./schema
COPY web ./web
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only, non-root, read-only root filesystem ----
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    OUTRIGGER_PROBE_URL=http://127.0.0.1:15000/healthz
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf /root/.npm /tmp/*
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/web ./web
COPY --from=build /src/schema ./schema
# Numeric UID/GID (the base image's `node` user): Kubernetes runAsNonRoot can only verify a numeric user.
USER 1000:1000
# Nothing is written under /app; logs go to stdout. Writable paths (/tmp, --data) are mounted: emptyDir or a volume.
EXPOSE 15000 15001 15006 8443 4318
# Checks $OUTRIGGER_PROBE_URL (the sidecar's admin /healthz by default; set it per role).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "/app/dist/src/cli/main.js", "probe"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
