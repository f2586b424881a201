// An application built on go-autorest's adal, as external-dns and older cert-manager are: a managed identity
// token with only the environment podid's webhook injects (adal reads MSI_ENDPOINT, not IDENTITY_ENDPOINT).
//
// Usage: podid-compat-adal <resource> [clientId=<id>|resourceId=<id>]. Prints the token.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/Azure/go-autorest/autorest/adal"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: podid-compat-adal <resource> [clientId=<id>|resourceId=<id>]")
		os.Exit(2)
	}
	options := &adal.ManagedIdentityOptions{}
	if len(os.Args) > 2 {
		kind, value, _ := strings.Cut(os.Args[2], "=")
		switch kind {
		case "clientId":
			options.ClientID = value
		case "resourceId":
			options.IdentityResourceID = value
		}
	}
	spt, err := adal.NewServicePrincipalTokenFromManagedIdentity(os.Args[1], options)
	if err == nil {
		spt.MaxMSIRefreshAttempts = 1
		err = spt.Refresh()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "adal managed identity:", err)
		os.Exit(1)
	}
	fmt.Print(spt.Token().AccessToken)
}
