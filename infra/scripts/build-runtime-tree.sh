#!/usr/bin/env bash
# The gateway's runtime tree: compiled JavaScript and production dependencies only (no tsx,
# vitest, loadtest or TypeScript sources). infra/Dockerfile runs exactly this; so does the test
# that starts the gateway from the tree without a Docker engine.
#
#   infra/scripts/build-runtime-tree.sh OUT_DIR     # then: cd OUT_DIR && node dist/server/main.js
#
# OUT_DIR gets package.json, node_modules/ (`pnpm deploy --prod` of @switchboard/gateway) and
# dist/ (infra/build.mjs). OUT_DIR must not exist or be empty; pnpm's links point inside it, so
# build it where it will run.
set -euo pipefail
out=${1:?usage: build-runtime-tree.sh OUT_DIR}
cd "$(dirname "$0")/../.."

node infra/build.mjs
# --legacy: the workspace links its packages rather than injecting copies (pnpm 10 otherwise
# refuses to deploy); the bundle has them compiled in anyway.
pnpm --filter @switchboard/gateway deploy --prod --legacy --prefer-offline "$out" >/dev/null
# pnpm deploy copies the package's files; keep only the manifest and the production dependencies.
find "$out" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name package.json -exec rm -rf {} +
cp -R gateway/dist "$out/dist"
# uWebSockets.js ships a native binary for every platform and Node ABI (about 90 MB); keep the one
# this Node loads.
keep="uws_$(node -p 'process.platform + "_" + process.arch + "_" + process.versions.modules').node"
find "$out/node_modules/.pnpm" -path '*uws-js-unofficial*/binaries/*.node' ! -name "$keep" -delete
echo "runtime tree in $out: $(du -sh "$out" | cut -f1)"
