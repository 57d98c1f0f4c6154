#!/usr/bin/env bash
# the reference Python (.venv), the native TensorFlow backend built offline, the offline ResNet-50
# ImageNet weights, the Jupyter kernel and the lung segmenter. Each step is idempotent and can be rerun on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_ENABLE_ONEDNN_OPTS=${TF_ENABLE_ONEDNN_OPTS:-0}

step() { printf '\n== setup: %s\n' "$1"; }

step "reference python (.venv)"; bash scripts/setup/python.sh
step "native TensorFlow backend"; node scripts/setup/native.mjs
step "ResNet-50 ImageNet weights"; bash scripts/setup/resnet50-weights.sh
step "Jupyter + tslab kernel";  bash scripts/setup/jupyter.sh
step "lung segmenter";          bash scripts/setup/segmenter.sh
step "check";                   node bin/cxr.js doctor
