#!/usr/bin/env bash
# The WebGPU checks on a lent GPU machine (the device tool: one prepared run). That machine has no
# Node, no node_modules and no browser, so:
#   scripts/device-bench.sh prepare   (here) fills .device/ (git-ignored, ~55 MB): single-file bundles
#       of scripts/parity-device.ts and scripts/bench.ts, the real digits bundle the parity suite
#       reads, Dawn's Node addon from the `webgpu` package, this machine's Node binary and Debian's
#       Vulkan loader with the GL vendor-neutral dispatch libraries the NVIDIA driver needs
#       (libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2: without them the loader finds no driver).
#   scripts/device-bench.sh run [bench options]   (there, with `carry: [".device"]`) unpacks them into
#       a private folder (/tmp/svcca-device: nothing is written outside it but $OUT), then runs, each
#       stage under its own `timeout` so that the whole ends within ~7 minutes and what finished is
#       in $OUT (or bench-results/):
#         1. the precision parity suite (stress, then the real digits CNN at its first and last
#            checkpoints; PARITY_OPTIONS="" for every other checkpoint too), GPU against float64:
#            parity.json (rewritten after every job) and a one-line verdict (PARITY PASS/FAIL …);
#         2. the quick benchmark sizes with this engine and with the engine before the precision
#            work (BEFORE_REV, bundled at prepare), and their GPU job times as after/before ratios;
#         3. the full benchmark with the issue's targets judged;
#         4. where the machine's python3 has PyTorch, scripts/torch_reference.py: the same jobs in
#            PyTorch (CUDA f32/f64, batched eigh; the reference per-pair loop) and numpy, so every GPU
#            figure of ours is a ratio measured in the same run (torch-reference.json).
# PEAK_GFLOPS: the GPU's f32 peak for the covariance-kernel target (default 67 000: an H100/H200 SXM).
# Stage limits (seconds): PARITY_TIMEOUT (100), QUICK_TIMEOUT (45, each engine), FULL_TIMEOUT (180),
# TORCH_TIMEOUT (120). The whole run ends within ~8.5 minutes.
# BEFORE_REV (prepare): the commit whose engine is the "before" (default 434d611, before issue #17).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
prepare)
  rm -rf .device
  mkdir -p .device/node_modules/webgpu/dist/linux-x64 .device/deb .device/data
  node scripts/bundle-device-bench.mjs .device/bench.mjs
  node scripts/bundle-device-bench.mjs .device/parity.mjs scripts/parity-device.ts
  cp test/fixtures/real/digits-cnn.npz .device/data/
  cp scripts/torch_reference.py .device/
  cp scripts/compare-bench.mjs .device/
  # The engine before the precision work, bundled the same way, for the before/after cost ratios.
  before=$(mktemp -d)
  git archive "${BEFORE_REV:-434d611}" | tar -x -C "$before"
  ln -s "$(pwd)/node_modules" "$before/node_modules"
  node "$before/scripts/bundle-device-bench.mjs" .device/bench-before.mjs
  rm -rf "$before"
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .device/node_modules/webgpu/
  xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .device/node_modules/webgpu/dist/linux-x64/dawn.node.xz
  xz -T2 -6 -c "$(command -v node)" > .device/node.xz
  lists=$(mktemp -d)
  mkdir -p "$lists/partial"
  apt_options="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  # shellcheck disable=SC2086
  apt-get $apt_options update -qq
  # shellcheck disable=SC2086
  (cd .device/deb && apt-get $apt_options download libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  for deb in libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2; do
    ls .device/deb/"${deb}"_*.deb >/dev/null
  done
  rm -rf "$lists"
  du -sh .device
  ;;
run)
  shift
  root=/tmp/svcca-device
  rm -rf "$root"
  mkdir -p "$root/sys"
  # Unpacked into a private folder, never into /: the loader and the GL dispatch libraries are found
  # through LD_LIBRARY_PATH; the machine's own driver (VK_DRIVER_FILES) stays where it is.
  for f in .device/deb/*.deb; do dpkg -x "$f" "$root/sys"; done
  export LD_LIBRARY_PATH="$root/sys/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  xz -dc .device/node.xz > "$root/node"
  chmod +x "$root/node"
  mkdir -p "$root/node_modules/webgpu/dist/linux-x64"
  cp .device/node_modules/webgpu/index.js .device/node_modules/webgpu/package.json "$root/node_modules/webgpu/"
  xz -dc .device/node_modules/webgpu/dist/linux-x64/dawn.node.xz > "$root/node_modules/webgpu/dist/linux-x64/dawn.node"
  cp .device/bench.mjs .device/bench-before.mjs .device/parity.mjs .device/compare-bench.mjs "$root/"
  export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
  out="$(mkdir -p "${OUT:-bench-results}" && cd "${OUT:-bench-results}" && pwd)"
  data="$(pwd)/.device/data/digits-cnn.npz"
  status=0
  echo "== 1/4 precision parity (real data + stress, GPU against float64)"
  (cd "$root" && timeout "${PARITY_TIMEOUT:-100}" ./node parity.mjs --bundle "$data" --out "$out/parity.json" ${PARITY_OPTIONS:---quick}) || status=$?
  echo "== 2/4 quick benchmark sizes: this engine, then the engine before the precision work"
  (cd "$root" && timeout "${QUICK_TIMEOUT:-45}" ./node bench.mjs --backend webgpu --runtime node --quick --out "$out/bench-webgpu-quick.json") || status=$?
  (cd "$root" && timeout "${QUICK_TIMEOUT:-45}" ./node bench-before.mjs --backend webgpu --runtime node --quick --out "$out/bench-webgpu-quick-before.json") || status=$?
  if [ -f "$out/bench-webgpu-quick.json" ] && [ -f "$out/bench-webgpu-quick-before.json" ]; then
    (cd "$root" && ./node compare-bench.mjs "$out/bench-webgpu-quick-before.json" "$out/bench-webgpu-quick.json" | tee "$out/cost-ratios.txt") || status=$?
  fi
  echo "== 3/4 full benchmark"
  (cd "$root" && timeout "${FULL_TIMEOUT:-180}" ./node bench.mjs --backend webgpu --runtime node --peak-gflops "${PEAK_GFLOPS:-67000}" --out "$out/bench-webgpu-full.json" "$@" 2>&1 | tee "$out/bench-webgpu-full.log") || status=$?
  echo "== 4/4 PyTorch and numpy on the same jobs"
  if python3 -c 'import torch' 2>/dev/null; then
    PYTHONUNBUFFERED=1 timeout "${TORCH_TIMEOUT:-120}" python3 .device/torch_reference.py --per-pair-budget 4 --repeats 2 --out "$out/torch-reference.json" 2>&1 | tee "$out/torch-reference.log" || status=$?
  else
    echo "no PyTorch on this machine: stage skipped"
  fi
  exit "$status"
  ;;
*)
  echo "usage: scripts/device-bench.sh prepare | run [bench options]" >&2
  exit 2
  ;;
esac
