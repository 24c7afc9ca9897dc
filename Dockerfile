# Kriten server image: Node.js 20 on Debian bookworm, with git and bubblewrap for the local
# executor. Build with `docker build -t kriten:latest .`.

# Production dependencies only. better-sqlite3 is a native module, which this toolchain
# builds when no prebuilt binary matches. The toolchain stays out of the final image.
FROM node:20-bookworm-slim AS dependencies
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
# swagger-ui-dist depends on @scarf/scarf, whose install script reports the install unless
# this is set.
ENV SCARF_ANALYTICS=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Compiles the TypeScript sources to dist/ with every dependency, the Nest CLI included.
FROM dependencies AS build
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
RUN npx nest build

FROM node:20-bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends git bubblewrap ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A fixed id, so that runAsUser in k8s/ and file ownership on volumes agree with the image.
RUN groupadd --system --gid 10001 kriten \
    && useradd --system --uid 10001 --gid kriten --home-dir /home/kriten --create-home kriten \
    && mkdir -p /var/lib/kriten \
    && chown kriten:kriten /var/lib/kriten
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./

ENV NODE_ENV=production \
    PORT=8080 \
    KRITEN_DATA_DIR=/var/lib/kriten
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((response) => process.exit(response.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/apps/kriten/src/main.js"]
