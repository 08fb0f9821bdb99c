#!/usr/bin/env bash
# `make demo`: run netpol on a throwaway copy of examples/home-ops and show what it does.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/netpol-demo.XXXXXX")"
cp -a "$here/examples/home-ops" "$work/home-ops"
cd "$work/home-ops"
git init -q -b main
git -c user.name=netpol-demo -c user.email=demo@example.invalid add -A
git -c user.name=netpol-demo -c user.email=demo@example.invalid commit -qm "example repo"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step netpol init
step git status --short
step cat kubernetes/components/network-policy/baseline/allow-dns.yaml
step netpol init            # idempotent: nothing to do
if netpol scaffold --help >/dev/null 2>&1; then
  step netpol scaffold media --dry-run
  step netpol scaffold media
  step git status --short
  step netpol scaffold media  # idempotent: nothing to do
fi
printf '\nThe demo repository is at %s\n' "$work/home-ops"
