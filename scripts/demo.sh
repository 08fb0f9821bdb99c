#!/usr/bin/env bash
# `make demo`: netpol's main job on a throwaway copy of examples/home-ops, in a few screens.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/netpol-demo.XXXXXX")"
cp -a "$here/examples/home-ops" "$work/home-ops"
cd "$work/home-ops"
git init -q -b main
git -c user.name=netpol-demo -c user.email=demo@example.invalid add -A
git -c user.name=netpol-demo -c user.email=demo@example.invalid commit -qm "example repo"

if [ -t 1 ]; then bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'; else bold='' dim='' off=''; fi
say() { printf '\n'; for line in "$@"; do printf '%s# %s%s\n' "$dim" "$line" "$off"; done; }
step() { printf '%s$ %s%s\n' "$bold" "$*" "$off"; "$@"; }

say "A Flux repository with 10 namespaces (examples/home-ops), copied to $work/home-ops."
say "1. Render the reusable components (baseline + default-deny) and netpol.yaml:"
step netpol init
git add -A && git -c user.name=netpol-demo -c user.email=demo@example.invalid commit -qm "netpol init"

say "2. Scaffold one namespace: the baseline component plus allow policies per app," \
  "   inferred from its HelmReleases, HTTPRoutes, CNPG databases and LoadBalancers:"
step netpol scaffold media

say "3. One of the policies written (on the pod's targetPort, not the Service port):"
policy=kubernetes/apps/media/sonarr/app/cnp-netpol.yaml
printf '%s$ cat %s%s  (the first of its %s policies)\n' "$bold" "$policy" "$off" "$(grep -c '^kind:' "$policy")"
awk '/^apiVersion/ {shown = 1} /^---/ && shown {exit} shown' "$policy"

say "4. New files beside each app; in existing files only the lines that had to change:"
git add -A
step git --no-pager diff --cached --stat
step git --no-pager diff --cached kubernetes/apps/media/sonarr/app/kustomization.yaml

if command -v kubectl >/dev/null 2>&1; then
  say "5. The namespace and the app still build with kustomize:"
  for dir in kubernetes/apps/media kubernetes/apps/media/sonarr/app; do
    printf '%s$ kubectl kustomize %s%s\n' "$bold" "$dir" "$off"
    kubectl kustomize "$dir" |
      awk '/^kind: CiliumNetworkPolicy/ {cnp=1; next} cnp && /^  name:/ {print "  CiliumNetworkPolicy " $2; cnp=0}'
  done
else
  say "5. (kubectl is not installed: skipping the 'kubectl kustomize' build check)"
fi

say "6. Running it again changes nothing:"
step netpol scaffold media

say "Next: review with 'git diff', then 'netpol scaffold --all' for every namespace." \
  "The demo repository stays at $work/home-ops"
