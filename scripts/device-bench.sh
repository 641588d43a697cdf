#!/usr/bin/env bash
# The WebGPU checks on a lent GPU machine (the device tool: one prepared run of ~6 minutes). That
# machine has no Node, no node_modules and no browser, so:
#
#   scripts/device-bench.sh prepare   (here) fills .device/ (git-ignored, ~31 MB): single-file bundles
#       of scripts/bench.ts, scripts/parity-device.ts and scripts/device-summary.ts, the real digits
#       bundle the parity suite reads, scripts/torch_reference.py, Dawn's Node addon from the `webgpu`
#       package, this machine's Node binary (xz) and Debian's Vulkan loader with the GL vendor-neutral
#       dispatch libraries the NVIDIA driver needs (libvulkan1 libglvnd0 libgl1 libglx0 libegl1
#       libopengl0 libgles2: without them the loader finds no driver). It checks that every one of
#       those debs is in .device/deb.
#
#   scripts/device-bench.sh run   (there, with `carry: [".device"]`) unpacks them into a private
#       folder (/tmp/svcca-device; nothing is written outside it but $OUT) and runs these stages, one
#       process each, each under its own `timeout`, all within RUN_BUDGET seconds (default 345: a
#       stage never gets more than what is left, less 10 s kept for the summary):
#         smoke         the smoke sizes (the whole pipeline on this adapter)     bench-smoke.json
#         products      the product kernel X·Yᵀ at the full sizes                bench-products.json
#         pair          one SVCCA pair, n = 512, m = 10 000                      bench-pair.json
#         eigen         the Jacobi eigendecomposition per size and driver        bench-eigen.json
#         job-N         the smallest learning-dynamics job (N: its index in sizes.json, the size set
#                       as the benchmark's --list prints it)                     bench-job-N.json
#         parity        the precision parity suite, GPU against float64 (real digits CNN at its
#                       first and last checkpoints, and the stress suite)        parity.json
#         torch         scripts/torch_reference.py --part core on the same size set: PyTorch f32
#                       per job (factor once, batched eigh), then the pair, the products and eigh
#                                                                                torch-reference.json
#         job-N …       the other jobs, one process each, smallest first; the largest gets all the
#                       time that is left
#         torch-extras  --part extras: PyTorch f64, numpy f64, the per-pair loop (what the largest
#                       job left of the budget)                                  torch-extras.json
#       Each stage writes <stage>.log and a line in stages.jsonl (status ok/failed/timeout/skipped,
#       exit status, seconds, limit); every JSON is written as soon as its part finished. After each
#       stage scripts/device-summary.ts (summary.mjs) turns what is there into one table: every GPU
#       target as a ratio from this run (svcca-lens against PyTorch f32 per job and for the pair, GPU
#       busy %, the product kernel against the peak and SGEMM, eigen 512, the parity verdict), and
#       $OUT receives summary.txt, summary.json and device-run.tar.gz (every file above): the lending
#       tool brings back at most 8 files, and a run cut short anywhere still returns what finished.
#
# Settings (environment): PEAK_GFLOPS (the GPU's f32 peak, default 67 000: H100/H200 SXM);
# RUN_BUDGET (345 s); caps per stage SMOKE_TIMEOUT 25, PRODUCTS_TIMEOUT 20, PAIR_TIMEOUT 25,
# EIGEN_TIMEOUT 30, JOB_TIMEOUT 75 (each job but the largest), PARITY_TIMEOUT 45, TORCH_TIMEOUT 60,
# TORCH_EXTRAS_TIMEOUT 90; PARITY_OPTIONS (--quick); DEVICE_SIZES full|quick|smoke (full); PYTHON
# (python3: the machine's, with PyTorch and CUDA).
# DEVICE_DRY_RUN=1: the same run on this machine's SwiftShader (Debian chromium's Vulkan ICD, Dawn's
# software adapter) with the smoke sizes, parity on two layers (PARITY_TIMEOUT 120), RUN_BUDGET 900 and /usr/bin/python3
# (PyTorch on the CPU, labelled so): checks the whole script without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
DEBS="libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2"
case "${1:-}" in
prepare)
  rm -rf .device
  mkdir -p .device/node_modules/webgpu/dist/linux-x64 .device/deb
  node scripts/bundle-device-bench.mjs .device/bench.mjs
  node scripts/bundle-device-bench.mjs .device/parity.mjs scripts/parity-device.ts
  node scripts/bundle-device-bench.mjs .device/summary.mjs scripts/device-summary.ts
  # The tool that lends the machine carries at most 64 MiB, the tracked tree included (~28 MB; the
  # digits bundle the parity suite reads travels in it): the bundles go compressed too.
  xz -T2 -9 .device/*.mjs
  cp scripts/torch_reference.py .device/
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .device/node_modules/webgpu/
  xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .device/node_modules/webgpu/dist/linux-x64/dawn.node.xz
  xz -T2 -6 -c "$(command -v node)" > .device/node.xz
  lists=$(mktemp -d)
  mkdir -p "$lists/partial"
  apt_options="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  # shellcheck disable=SC2086
  apt-get $apt_options update -qq
  # shellcheck disable=SC2086
  (cd .device/deb && apt-get $apt_options download $DEBS 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  rm -rf "$lists"
  missing=""
  for deb in $DEBS; do
    ls .device/deb/"${deb}"_*_amd64.deb >/dev/null 2>&1 || missing="$missing $deb"
  done
  if [ -n "$missing" ]; then
    echo "prepare: these debs did not download into .device/deb:$missing (the NVIDIA driver needs every one)" >&2
    exit 1
  fi
  ls .device/deb
  du -sh .device
  ;;
run)
  shift
  started=$SECONDS
  if [ "${DEVICE_DRY_RUN:-}" = 1 ]; then
    export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/lib/chromium/vk_swiftshader_icd.json}"
    sizes_flag="--${DEVICE_SIZES:-smoke}"
    budget="${RUN_BUDGET:-900}"
    parity_options="${PARITY_OPTIONS:---quick --layers fc1,logits}"
    parity_cap="${PARITY_TIMEOUT:-120}" # SwiftShader on two shared cores: 30–45 s
    python="${PYTHON:-$([ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)}"
  else
    export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
    sizes_flag="--${DEVICE_SIZES:-full}"
    budget="${RUN_BUDGET:-345}"
    parity_options="${PARITY_OPTIONS:---quick}"
    parity_cap="${PARITY_TIMEOUT:-45}" # 20 s on the H200 (2026-12-04)
    python="${PYTHON:-python3}"
  fi
  [ "$sizes_flag" = --full ] && sizes_flag=""
  if [ ! -f "$VK_DRIVER_FILES" ]; then
    # Another layout of the driver: the first NVIDIA ICD file in the usual places.
    found=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia*.json /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json 2>/dev/null | head -1 || true)
    echo "VK_DRIVER_FILES=$VK_DRIVER_FILES does not exist; ${found:+using $found}${found:-no NVIDIA ICD file found}"
    if [ -n "$found" ]; then export VK_DRIVER_FILES="$found"; fi
  fi
  for deb in $DEBS; do
    ls .device/deb/"${deb}"_*.deb >/dev/null 2>&1 || echo "WARNING: .device/deb has no $deb (run prepare again): the NVIDIA driver may not load"
  done
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
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
  # The bundles (bench, parity, summary, and any other module prepare put beside them, e.g. a
  # worker entry of the CPU pool), then whatever else is there.
  for f in .device/*.mjs.xz; do xz -dc "$f" > "$root/$(basename "$f" .xz)"; done
  for extra in .device/*; do
    case "$(basename "$extra")" in deb | node_modules | node.xz | *.mjs.xz) continue ;; esac
    cp -r "$extra" "$root/"
  done
  out="$(mkdir -p "${OUT:-bench-results}" && cd "${OUT:-bench-results}" && pwd)"
  # The tool that lends the machine brings back at most 8 files of $OUT: each stage writes into
  # $work, and after every stage $OUT gets device-run.tar.gz (all of $work), summary.txt and
  # summary.json, so a run cut short anywhere still returns everything that finished.
  work="$root/out"
  mkdir -p "$work"
  data="$(pwd)/test/fixtures/real/digits-cnn.npz"
  : > "$work/stages.jsonl"
  pack() {
    (cd "$root" && timeout 20 ./node summary.mjs "$work" --peak-gflops "${PEAK_GFLOPS:-67000}" > "$work/summary.txt" 2>&1) || true
    cp "$work/summary.txt" "$out/summary.txt"
    if [ -f "$work/summary.json" ]; then cp "$work/summary.json" "$out/summary.json"; fi
    tar -czf "$out/device-run.tar.gz.tmp" -C "$work" . && mv "$out/device-run.tar.gz.tmp" "$out/device-run.tar.gz"
  }
  echo "device run: budget ${budget} s, sizes ${sizes_flag:---full}, VK_DRIVER_FILES=$VK_DRIVER_FILES; set up in $((SECONDS - started)) s"

  # stage NAME CAP COMMAND…: runs COMMAND in $root under `timeout` (CAP seconds, or what is left of
  # the budget less a reserve for the summary), output to $work/NAME.log, one line in stages.jsonl.
  reserve=10
  stage() {
    local name=$1 cap=$2 left limit rc t0
    shift 2
    left=$((budget - reserve - (SECONDS - started)))
    limit=$((cap < left ? cap : left))
    if [ "$limit" -lt 3 ]; then
      echo "== $name: skipped, the run's budget of ${budget} s is spent"
      printf '{"stage":"%s","status":"skipped","rc":null,"seconds":0,"limit":0}\n' "$name" >> "$work/stages.jsonl"
      return 0
    fi
    echo "== $name (limit ${limit} s)"
    t0=$SECONDS
    rc=0
    (cd "$root" && timeout -k 5 "$limit" "$@") > "$work/$name.log" 2>&1 || rc=$?
    local status=ok
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then status=timeout; elif [ "$rc" -ne 0 ]; then status=failed; fi
    printf '{"stage":"%s","status":"%s","rc":%d,"seconds":%d,"limit":%d}\n' "$name" "$status" "$rc" $((SECONDS - t0)) "$limit" >> "$work/stages.jsonl"
    # A stage that did not end well shows its last lines (the error); every log is in the tarball.
    if [ "$status" != ok ]; then
      # The loader's warnings and the error's first line, else the log's last lines.
      { grep -m 4 -E '^(Warning: vk|[A-Za-z]*Error|PARITY)' "$work/$name.log" || tail -n 4 "$work/$name.log"; } | cut -c1-300 | sed 's/^/   /'
    else
      grep -E '^PARITY' "$work/$name.log" | cut -c1-300 | sed 's/^/   /' || true
    fi
    echo "   -> $status (exit $rc) in $((SECONDS - t0)) s"
    pack
  }
  bench=(./node bench.mjs --backend webgpu --runtime node --peak-gflops "${PEAK_GFLOPS:-67000}")

  stage smoke "${SMOKE_TIMEOUT:-25}" "${bench[@]}" --smoke --out "$work/bench-smoke.json"
  # shellcheck disable=SC2086
  (cd "$root" && timeout 20 ./node bench.mjs --backend webgpu --runtime node $sizes_flag --list) > "$work/sizes.json" || true
  # The jobs, smallest first (by widths × checkpoints × datapoints).
  order=$("$root/node" -e '
    const { jobs } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const size = (j) => j.widths.reduce((a, b) => a + b, 0) * j.steps * j.datapoints;
    console.log(jobs.map((j, i) => i).sort((a, b) => size(jobs[a]) - size(jobs[b])).join(" "));' "$work/sizes.json") || order=""
  read -r -a jobs <<< "$order"
  # shellcheck disable=SC2086
  stage products "${PRODUCTS_TIMEOUT:-20}" "${bench[@]}" $sizes_flag --only products --out "$work/bench-products.json"
  # shellcheck disable=SC2086
  stage pair "${PAIR_TIMEOUT:-25}" "${bench[@]}" $sizes_flag --only pair --out "$work/bench-pair.json"
  # shellcheck disable=SC2086
  stage eigen "${EIGEN_TIMEOUT:-30}" "${bench[@]}" $sizes_flag --only eigen --out "$work/bench-eigen.json"
  if [ "${#jobs[@]}" -gt 0 ]; then
    # shellcheck disable=SC2086
    stage "job-${jobs[0]}" "${JOB_TIMEOUT:-75}" "${bench[@]}" $sizes_flag --only "job=${jobs[0]}" --out "$work/bench-job-${jobs[0]}.json"
  fi
  # shellcheck disable=SC2086
  stage parity "$parity_cap" ./node parity.mjs --bundle "$data" --out "$work/parity.json" $parity_options
  torch=("$python" torch_reference.py --config "$work/sizes.json" --repeats 2 --extra-repeats 1 --per-pair-budget 3)
  has_numpy=0
  if "$python" -c 'import numpy' 2>/dev/null; then has_numpy=1; else echo "== torch: skipped, $python has no numpy"; fi
  if [ "$has_numpy" = 1 ]; then
    stage torch "${TORCH_TIMEOUT:-60}" env PYTHONUNBUFFERED=1 "${torch[@]}" --part core --out "$work/torch-reference.json"
  fi
  for ((i = 1; i < ${#jobs[@]}; i++)); do
    cap="${JOB_TIMEOUT:-75}"
    if [ "$i" -eq $((${#jobs[@]} - 1)) ]; then cap=$budget; fi # the largest: all that is left
    # shellcheck disable=SC2086
    stage "job-${jobs[$i]}" "$cap" "${bench[@]}" $sizes_flag --only "job=${jobs[$i]}" --out "$work/bench-job-${jobs[$i]}.json"
  done
  # What a researcher would run instead, beyond the targets' reference (f64, numpy, the per-pair
  # loop): with whatever time the largest job left.
  if [ "$has_numpy" = 1 ]; then
    stage torch-extras "${TORCH_EXTRAS_TIMEOUT:-90}" env PYTHONUNBUFFERED=1 "${torch[@]}" --part extras --out "$work/torch-extras.json"
  fi
  pack
  echo "== summary (run took $((SECONDS - started)) s; in $out: device-run.tar.gz, every file of the run; summary.txt, this table)"
  cat "$out/summary.txt"
  ;;
*)
  echo "usage: scripts/device-bench.sh prepare | run   (DEVICE_DRY_RUN=1 … run: on SwiftShader here)" >&2
  exit 2
  ;;
esac
