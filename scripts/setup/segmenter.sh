#!/usr/bin/env bash
# Trains the default lung segmenter once (cached under .cache/segment/, keyed by its settings and the mask data),
# so that `npm start` — whose de-confounded recipe crops every image to its lungs — does not train it first.
# The model is never committed: it is derived from the lung masks, which may not be redistributed.
set -euo pipefail
cd "$(dirname "$0")/../.."
masks="${CXR_LUNGMASKS:-../shared/cxr-lungmasks}"
if [ ! -f "$masks/manifest.csv" ]; then
  echo "setup: no lung-mask data at $masks; the segmenter will be trained on first use once it is there"
  exit 0
fi
node bin/cxr.js segment train --quiet
