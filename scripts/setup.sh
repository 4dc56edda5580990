#!/usr/bin/env bash
# Installs everything FusionHub needs on a fresh machine: the distribution's packages
# (PostgreSQL 15 server for the production store and its tests, Chromium for the browser
# tests, a JDK for Spark) when missing, then the Python environment from the lock file
# and the front-end assets from package-lock.json. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql-15)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: missing ${need[*]}; install them (as root: apt-get install ${need[*]})" >&2
  fi
fi
# A cluster created by the package's post-install is not used: tests make their own.

command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
uv sync --frozen --quiet

if [ -f package.json ]; then
  if command -v npm >/dev/null 2>&1; then
    # The workspace serves these files itself (node_modules/<pkg>/dist): no CDN, ever.
    npm ci --no-audit --no-fund --silent --ignore-scripts
  else
    echo "setup: npm is missing; front-end assets cannot be installed" >&2
    exit 1
  fi
fi
