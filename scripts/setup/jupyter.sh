#!/usr/bin/env bash
# Notebook platform: Debian's headless chromium + fonts (figure export to PNG/SVG through
# playwright-core; no browser is ever downloaded) and the TypeScript (tslab) kernel registered in the
# project's .venv, whose JupyterLab, nbconvert and plotly renderer serve both `npm run lab` and the
# headless notebook tests. Idempotent: rerunning only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

# --- chromium + fonts (Debian packages) ---------------------------------------------------------
APT_PKGS=(chromium fonts-dejavu-core fonts-liberation fontconfig)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO=(sudo)
  fi
  echo "setup: apt-get install ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
CHROMIUM=${CXR_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "setup: $CHROMIUM missing after install" >&2; exit 1; }

# --- tslab kernel in the project's .venv ---------------------------------------------------------
JUPYTER=.venv/bin/jupyter
if [ ! -x "$JUPYTER" ]; then
  echo "setup: $JUPYTER missing: run scripts/setup/python.sh first (it installs JupyterLab and plotly)" >&2
  exit 1
fi
TSLAB="$ROOT/node_modules/tslab/bin/tslab"
[ -x "$TSLAB" ] || { echo "setup: $TSLAB missing: run npm install first" >&2; exit 1; }

# Written by hand rather than with `tslab install` so that the spec lands in .venv (not in the user's
# or the system's kernel registry) and carries the environment every TensorFlow process here needs.
spec=$(mktemp -d)
trap 'rm -rf "$spec"' EXIT
cat > "$spec/kernel.json" <<EOF
{
  "argv": ["$TSLAB", "kernel", "--config-path", "{connection_file}"],
  "display_name": "TypeScript (covid-cxr)",
  "language": "typescript",
  "env": {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
}
EOF
installed=.venv/share/jupyter/kernels/tslab/kernel.json
if [ -f "$installed" ] && cmp -s "$spec/kernel.json" "$installed"; then
  echo "setup: tslab kernel already registered in .venv"
else
  "$JUPYTER" kernelspec install --sys-prefix --name tslab "$spec" >/dev/null
  echo "setup: registered tslab kernel in .venv ($installed)"
fi

"$JUPYTER" labextension list 2>&1 | grep -q 'jupyterlab-plotly.*enabled' \
  || { echo "setup: the jupyterlab-plotly renderer is not enabled in .venv (is plotly installed there?)" >&2; exit 1; }
echo "setup: jupyter ok: $("$JUPYTER" lab --version | head -1) + tslab $(node -p "require('./node_modules/tslab/package.json').version"), chromium $("$CHROMIUM" --version 2>/dev/null | awk '{print $2}')"
