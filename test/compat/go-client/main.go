// A real Go application: azidentity's ManagedIdentityCredential (or DefaultAzureCredential) with only the
// environment podid's webhook injects. Prints the access token on stdout; errors on stderr, exit 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func main() {
	// Same arguments as the other compatibility clients: <scope> [mi|default] [clientId=<id>|resourceId=<id>].
	flag.Parse()
	args := append(flag.Args(), "", "", "")
	scope, mode := &args[0], args[1]
	kind, value, _ := strings.Cut(args[2], "=")
	clientID, resourceID := new(string), new(string)
	if kind == "clientId" {
		*clientID = value
	} else if kind == "resourceId" {
		*resourceID = value
	}
	useDefault := new(bool)
	*useDefault = mode == "default"

	var cred azcore.TokenCredential
	var err error
	if *useDefault {
		cred, err = azidentity.NewDefaultAzureCredential(nil)
	} else {
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		if *clientID != "" {
			opts.ID = azidentity.ClientID(*clientID)
		} else if *resourceID != "" {
			opts.ID = azidentity.ResourceID(*resourceID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	timeout := 60 * time.Second
	if s, err := time.ParseDuration(os.Getenv("COMPAT_TIMEOUT")); err == nil {
		timeout = s
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{*scope}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(tok.Token)
}
