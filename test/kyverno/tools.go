//go:build tools

// Package kyverno pins the Kyverno CLI podid's policy tests run.
package kyverno

import _ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno"
