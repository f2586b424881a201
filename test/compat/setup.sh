#!/usr/bin/env bash
# Installs the real Azure clients the compatibility suite runs: Debian's azure-identity for Python
# (python3-azure) and Azure CLI (azure-cli), and builds the Go azidentity client. Idempotent; a client
# that cannot be installed is left missing, and its tests fail saying so.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=.cache/bin
mkdir -p "$BIN"

missing=()
/usr/bin/python3 -c 'import azure.identity' 2>/dev/null || missing+=(python3-azure)
command -v az >/dev/null || missing+=(azure-cli)
if ((${#missing[@]})); then
  echo "compat setup: installing ${missing[*]} from Debian"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    echo "compat setup: could not install ${missing[*]}; those clients' tests will fail" >&2
fi

if command -v go >/dev/null; then
  (cd test/compat/go-client && go build -o "../../../$BIN/podid-compat-go" .) ||
    echo "compat setup: could not build the Go client; its tests will fail" >&2
  (cd test/compat/go-adal && go build -o "../../../$BIN/podid-compat-adal" .) ||
    echo "compat setup: could not build the adal client; its tests will fail" >&2
  (cd test/azwi-oracle && go build -o "../../$BIN/azwi-webhook-oracle" .) ||
    echo "compat setup: could not build azure-workload-identity's webhook (the oracle); its tests will fail" >&2
else
  echo "compat setup: no Go toolchain; the Go client's tests will fail" >&2
fi
