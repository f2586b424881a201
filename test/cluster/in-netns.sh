#!/usr/bin/env bash
# Runs a command inside a network namespace of its own with only loopback up, so nothing it starts (the
# control plane, podid's servers, the tests) can dial off the machine: a webhook configuration naming a
# Service makes the apiserver dial a cluster IP, and here that fails at once with "network unreachable".
# As root: unshare --net; otherwise a user namespace maps the caller to root inside (unshare --map-root-user).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: test/cluster/in-netns.sh COMMAND [ARGS...]" >&2; exit 2; }
if [ "${PODID_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
command -v unshare >/dev/null && command -v ip >/dev/null || { echo "in-netns.sh: needs unshare (util-linux) and ip (iproute2)" >&2; exit 1; }
args=(--net)
[ "$(id -u)" = 0 ] || args+=(--map-root-user)
exec unshare "${args[@]}" env PODID_IN_NETNS=1 bash -c 'ip link set lo up && exec "$@"' in-netns "$@"
