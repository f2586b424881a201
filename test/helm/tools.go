//go:build tools

// Package helm pins the helm binary podid's chart tests run (helm lint, helm template, helm install).
package helm

import _ "helm.sh/helm/v3/cmd/helm"
