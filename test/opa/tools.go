//go:build tools

// Package opa pins the OPA binary podid's policy tests run.
package opa

import _ "github.com/open-policy-agent/opa"
