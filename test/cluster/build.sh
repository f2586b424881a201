#!/usr/bin/env bash
# Builds the real control plane and node (and OPA, Kyverno, helm) for podid's end-to-end tests from published Go
# modules (no downloads of prebuilt binaries): etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
# kubelet and kube-proxy, into .cache/bin. The node's Debian parts (containerd, runc, CNI plugins) come from
# test/node/setup.sh.
# Cached: skipped when the binaries exist and were built from the same go.mod/go.sum.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${PODID_CLUSTER_BIN:-$root/.cache/bin}"
stamp="$bin/.built-from"
want="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -d' ' -f1)"

# Tools from their Go modules (policy engines for policies/, helm for charts/): one module each under test/, one
# binary each, cached like the control plane.
build_tool() { # name module-dir package
  local name="$1" dir="$here/../$2" pkg="$3"
  local tool_stamp="$bin/.$name-built-from"
  local tool_want
  tool_want="$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -d' ' -f1)"
  if [ -f "$tool_stamp" ] && [ "$(cat "$tool_stamp")" = "$tool_want" ] && [ -x "$bin/$name" ]; then return 0; fi
  command -v go >/dev/null || { echo "test/cluster/build.sh: Go is required to build $name" >&2; exit 1; }
  mkdir -p "$bin"
  echo "building $name…"
  (cd "$dir" && go build -trimpath -o "$bin/$name.tmp" "$pkg" && mv "$bin/$name.tmp" "$bin/$name")
  echo "$tool_want" > "$tool_stamp"
}
build_tool opa opa github.com/open-policy-agent/opa
[ -d "$here/../kyverno" ] && build_tool kyverno kyverno github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno
# helm, for the chart (charts/podid): lint, template and install into the e2e apiserver.
[ -d "$here/../helm" ] && build_tool helm helm helm.sh/helm/v3/cmd/helm

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -x "$bin/etcd" ] && [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] && [ -x "$bin/kubectl" ] \
   && [ -x "$bin/kube-scheduler" ] && [ -x "$bin/kubelet" ] && [ -x "$bin/kube-proxy" ]; then
  echo "control plane binaries are cached in $bin"
  exit 0
fi
command -v go >/dev/null || { echo "test/cluster/build.sh: Go is required to build the control plane (see test/cluster/README.md)" >&2; exit 1; }
mkdir -p "$bin"
cd "$here"
start=$(date +%s)
echo "building etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet and kube-proxy (cold: ~12 minutes on 2 cores)…"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# etcd's server module root is its main package; go build names the binary after the last path element ("v3").
go build -trimpath -o "$tmp/etcd" go.etcd.io/etcd/server/v3
kver="$(awk '$1 == "k8s.io/kubernetes" { print $2 }' go.mod)"
minor="$(echo "$kver" | cut -d. -f2)"
ldflags="-X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
go build -trimpath -ldflags "$ldflags" -o "$tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
mv "$tmp"/* "$bin/"
echo "$want" > "$stamp"
echo "built in $(( $(date +%s) - start ))s into $bin"
