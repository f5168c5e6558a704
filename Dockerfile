# The Arca image: the CLI and the in-cluster controller (`arca server`), one program.
#
#   docker build -t arca:0.1.0 .        # the tag `arca install` uses by default is arca:<version>
#   docker run --rm arca:0.1.0 version
#
# This file is the documented way to build for a registry. The machine this project is developed
# on has no docker daemon, so the test suite builds the same layout without one:
# scripts/build-image.ts (`npm run image`, test/env/images.ts) writes a docker-archive tar with
# /app/{package.json,node_modules,dist/src,build/Release/arca_native.node}, `arca` and
# `kubectl-arca` in /usr/local/bin, user 10001, HOME=/tmp and this ENTRYPOINT, imports it into the
# test cluster's node and runs it there. Keep the two layouts in step.

# --- build: compile the TypeScript and the two native addons -------------------------------
FROM node:20-bookworm-slim AS build
# node-gyp builds zstd-napi and Arca's own addon (native/poly1305.c) during `npm ci`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
# The official image ships Node's headers in /usr/local/include/node: no download needed.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
# The package's own install script (node-gyp rebuild) needs binding.gyp and native/ at npm ci.
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: Node.js, the compiled program, production dependencies, a non-root user -------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Numeric, so that the kubelet can verify runAsNonRoot (the Deployment runs as 10001 too).
RUN groupadd --gid 10001 arca \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin arca
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/build/Release/arca_native.node ./build/Release/arca_native.node
# The Deployment's command is `arca server ...`, and `kubectl exec ... arca` should work too:
# put the CLI on PATH under both of its names (main.js starts with #!/usr/bin/env -S node
# --max-semi-space-size=8, the flag the entrypoint passes too).
RUN chmod 0755 /app/dist/src/cli/main.js \
 && ln -s /app/dist/src/cli/main.js /usr/local/bin/arca \
 && ln -s /app/dist/src/cli/main.js /usr/local/bin/kubectl-arca
USER 10001:10001
# The root file system is read-only in the Deployment; /tmp is an emptyDir.
ENV HOME=/tmp
EXPOSE 8085
ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/dist/src/cli/main.js"]
