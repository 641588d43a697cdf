#!/usr/bin/env bash
# The WebGPU benchmark on a lent GPU machine (the device tool: one prepared run). That machine has
# no Node, no node_modules and no browser, so:
#   scripts/device-bench.sh prepare   (here) fills .device/ (git-ignored, ~50 MB): a single-file
#       bundle of scripts/bench.ts, Dawn's Node addon from the `webgpu` package, this machine's Node
#       binary and Debian's Vulkan loader, compressed.
#   scripts/device-bench.sh run [bench options]   (there, with `carry: [".device"]`) unpacks them,
#       runs the smoke sizes (seconds: proves the pipeline), then the full sizes with the issue's
#       targets judged, in Node on Dawn on the GPU; JSON into $OUT (or bench-results/).
# PEAK_GFLOPS: the GPU's f32 peak for the covariance-kernel target (default 67 000: an H100/H200 SXM).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
prepare)
  rm -rf .device
  mkdir -p .device/node_modules/webgpu/dist/linux-x64 .device/deb
  node scripts/bundle-device-bench.mjs .device/bench.mjs
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .device/node_modules/webgpu/
  xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .device/node_modules/webgpu/dist/linux-x64/dawn.node.xz
  xz -T2 -6 -c "$(command -v node)" > .device/node.xz
  lists=$(mktemp -d)
  mkdir -p "$lists/partial"
  apt_options="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  # shellcheck disable=SC2086
  apt-get $apt_options update -qq
  # shellcheck disable=SC2086
  (cd .device/deb && apt-get $apt_options download libvulkan1 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  ls .device/deb/*.deb >/dev/null
  du -sh .device
  ;;
run)
  shift
  for f in .device/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
  xz -dc .device/node.xz > /tmp/node
  chmod +x /tmp/node
  xz -dkf .device/node_modules/webgpu/dist/linux-x64/dawn.node.xz
  export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
  out="${OUT:-bench-results}"
  mkdir -p "$out"
  /tmp/node .device/bench.mjs --backend webgpu --runtime node --smoke --out "$out/bench-webgpu-smoke.json"
  /tmp/node .device/bench.mjs --backend webgpu --runtime node --peak-gflops "${PEAK_GFLOPS:-67000}" --out "$out/bench-webgpu-full.json" "$@"
  ;;
*)
  echo "usage: scripts/device-bench.sh prepare | run [bench options]" >&2
  exit 2
  ;;
esac
