#!/usr/bin/env bash
# The real node's Debian parts: containerd, runc, the CNI plugins (bridge, host-local, portmap, loopback), iptables
# and conntrack for kube-proxy, iproute2 for the node's veth. Idempotent; as root (CI runs as root). A policy-rc.d
# keeps the packaged containerd service from starting: test/node/node.ts starts its own containerd inside the
# suite's namespaces. kubelet, kube-proxy and kube-scheduler are built from Go by test/cluster/build.sh.
set -euo pipefail
need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || need+=(containernetworking-plugins)
command -v iptables >/dev/null || need+=(iptables)
command -v conntrack >/dev/null || need+=(conntrack)
command -v ip >/dev/null || need+=(iproute2)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
((${#need[@]})) || exit 0
if [ "$(id -u)" != 0 ]; then
  echo "test/node/setup.sh: installing ${need[*]} needs root (apt-get)" >&2
  exit 1
fi
echo "installing ${need[*]} from Debian…"
policy=/usr/sbin/policy-rc.d
placed=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && placed=1
fi
trap '[ "$placed" = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
