#!/usr/bin/env bash
# Runs a command inside a network namespace of its own, so nothing it starts (the control plane, the real node,
# podid's pods, the tests) can dial off the machine: the namespace has loopback and one veth pair carrying the
# node's address, and no default route. A webhook configuration naming a Service makes the apiserver dial a cluster
# IP; here kube-proxy's rules (inside this namespace) take it to the webhook's pod, and any other address fails at
# once with "network unreachable".
#
# As root, a private mount namespace too (`unshare --mount --propagation private`), so that what the real node mounts
# (tmpfs over /run/containerd, /run/netns and /var/lib/cni; containers' rootfs) and the machine-wide sysctls the
# kubelet sets (bound over by files holding the machine's own values) go with the namespace and leave the machine as
# it was (../shared/real-node.md, quirks 6 and 7). Without root: a user namespace maps the caller to root inside
# (no real node then: test/node/node.ts says so).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: test/cluster/in-netns.sh COMMAND [ARGS...]" >&2; exit 2; }
if [ "${PODID_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
command -v unshare >/dev/null && command -v ip >/dev/null || { echo "in-netns.sh: needs unshare (util-linux) and ip (iproute2)" >&2; exit 1; }

# The node's address and the Service range routed on its veth (test/node/network.ts names the same values).
export PODID_NODE_IP="${PODID_NODE_IP:-10.200.0.1}"
export PODID_SERVICE_CIDR="${PODID_SERVICE_CIDR:-10.0.0.0/24}"

if [ "$(id -u)" != 0 ]; then
  exec unshare --net --map-root-user env PODID_IN_NETNS=1 bash -c 'ip link set lo up && exec "$@"' in-netns "$@"
fi

inside() {
  set -euo pipefail
  ip link set lo up
  # The kubelet refuses a loopback node IP and there is no dummy link here: a veth pair, both ends in this namespace.
  ip link add podid-node type veth peer name podid-node-peer
  ip addr add "$PODID_NODE_IP/24" dev podid-node
  ip link set podid-node up
  ip link set podid-node-peer up
  ip route add "$PODID_SERVICE_CIDR" dev podid-node
  # Per network namespace: ClusterIP traffic between pods on the bridge goes through kube-proxy's rules.
  sysctl -qw net.ipv4.ip_forward=1
  if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then sysctl -qw net.bridge.bridge-nf-call-iptables=1; fi
  # /etc/kubernetes: where node files such as azure.json live for hostPath volumes (standard mode's cloud config).
  for d in /run/containerd /run/netns /var/lib/cni /var/lib/kubelet /var/log/pods /var/log/containers /etc/kubernetes; do
    mount -t tmpfs -o mode=0755 tmpfs "$d"
  done
  # The kubelet writes these machine-wide sysctls: here it writes files holding the machine's own values.
  local keep
  keep="$(mktemp -d)"
  mount -t tmpfs tmpfs "$keep"
  for key in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
    local f="$keep/${key//\//_}"
    cat "/proc/sys/$key" > "$f"
    mount --bind "$f" "/proc/sys/$key"
  done
  export PODID_IN_NETNS=1
  exec "$@"
}
export -f inside
# The mount points, made here (outside) and removed afterwards if this script made them.
made=()
for d in /run/containerd /run/netns /var/lib/cni /var/lib/kubelet /var/log/pods /var/log/containers /etc/kubernetes; do
  [ -d "$d" ] || { mkdir -p "$d" && made+=("$d"); }
done
code=0
unshare --net --mount --propagation private bash -c 'inside "$@"' in-netns "$@" || code=$?
for d in "${made[@]}"; do rmdir "$d" 2>/dev/null || true; done
exit "$code"
