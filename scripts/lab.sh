#!/usr/bin/env bash
# `npm run lab`: JupyterLab from the project's .venv on the project folder, opening notebooks/, with
# the TypeScript (tslab) kernel that scripts/setup/jupyter.sh registered. Extra arguments go to
# `jupyter lab` (e.g. `npm run lab -- --no-browser --port 8899`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/jupyter ]; then
  echo "lab: .venv/bin/jupyter missing: run \`npm run setup\` first" >&2
  exit 1
fi
if [ ! -f .venv/share/jupyter/kernels/tslab/kernel.json ] || [ ! -x /usr/bin/chromium ] && [ -z "${CXR_CHROMIUM:-}" ]; then
  echo "lab: the tslab kernel or chromium is missing: run \`bash scripts/setup/jupyter.sh\`" >&2
  exit 1
fi
args=(--ServerApp.root_dir="$PWD" --LabApp.default_url=/lab/tree/notebooks)
# Jupyter refuses to run as root unless told; only say so when it is the case.
if [ "$(id -u)" -eq 0 ]; then args+=(--allow-root); fi
export TF_ENABLE_ONEDNN_OPTS=${TF_ENABLE_ONEDNN_OPTS:-0}
exec .venv/bin/jupyter lab "${args[@]}" "$@"
