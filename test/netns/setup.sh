#!/usr/bin/env bash
# What the interception test needs from Debian: iproute2 (ip netns, veth) and iptables. Idempotent.
set -uo pipefail
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v iptables >/dev/null || missing+=(iptables)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    echo "netns setup: could not install ${missing[*]}; the interception test will fail" >&2
fi
