#!/usr/bin/env bash
# Project-local Python (.venv) with the reference libraries the tests and notebooks use:
# numpy + OpenCV (enhancement goldens), TensorFlow/Keras + h5py (backbone parity), scikit-learn
# (metric checks), JupyterLab + plotly (notebooks), pydicom + imagecodecs (DICOM test files and the
# reference display pipeline), PyTorch CPU (the second reference of `npm run bench:backends`). Idempotent.
#
# torch 2.13 is pinned to its CPU build where a local wheel folder has it. No torchvision: the only build of it
# here is a CUDA one, whose operators do not load against CPU torch (bench/backends_torch.py defines ResNet-50).
#
# Where pip is configured with local wheel folders (air-gapped machines), install only from them
# (`--no-index --find-links`), so pip never waits on an unreachable index; elsewhere use PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${CXR_BASE_PYTHON:-python3}
REQS=(numpy opencv-python-headless "tensorflow-cpu==2.21.0" keras h5py scikit-learn jupyterlab plotly ipykernel pydicom imagecodecs "torch==2.13.0")

pip_source_args() {
  local links=() url dir
  for url in $("$PY" -m pip config get global.extra-index-url 2>/dev/null) $("$PY" -m pip config get global.find-links 2>/dev/null); do
    dir=${url#file://}
    [ -d "$dir" ] || continue
    # A local "simple" index keeps its wheels in ../files.
    if [ -d "$dir/../files" ]; then links+=("--find-links" "$(cd "$dir/../files" && pwd)"); else links+=("--find-links" "$dir"); fi
  done
  if [ ${#links[@]} -gt 0 ]; then echo "--no-index ${links[*]}"; fi
}

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
marker=.venv/.cxr-reqs
want=$(printf '%s\n' "${REQS[@]}")
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then
  echo "setup: .venv already has the reference libraries"
  exit 0
fi
# shellcheck disable=SC2046
.venv/bin/python -m pip install --disable-pip-version-check -q $(pip_source_args) "${REQS[@]}"
printf '%s' "$want" > "$marker"
.venv/bin/python -c "import numpy, cv2, tensorflow as tf, keras, h5py, sklearn, torch; print('setup: python ok: numpy', numpy.__version__, 'opencv', cv2.__version__, 'tensorflow', tf.__version__, 'keras', keras.__version__, 'torch', torch.__version__)"
