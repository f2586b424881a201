# syntax=docker/dockerfile:1
# One image for every podid server: `podid webhook`, `podid sidecar`, `podid nmi`, `podid certs`.
# Node 24; the runtime stage holds compiled JavaScript and production dependencies only, and runs as non-root.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` devDependency (Node 24 for machines that ship an older Node) is not needed here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY cli ./cli
COPY common ./common
COPY identity ./identity
COPY webhook ./webhook
COPY certs ./certs
COPY tokens ./tokens
COPY sidecar ./sidecar
COPY nmi ./nmi
COPY migrate ./migrate
COPY controller ./controller
COPY explain ./explain
# `podid demo` runs against the emulators and the in-process NMI wiring from test/.
COPY test/emulators ./test/emulators
COPY test/local-nmi.ts ./test/local-nmi.ts
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Debian slim rather than distroless: NMI's metadata interception runs iptables (Debian's, nft and legacy).
FROM node:24-bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iptables >/dev/null
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/cli/main.js"]
CMD ["--help"]
