// A real Go application: azidentity's ManagedIdentityCredential (or DefaultAzureCredential) with only the
// environment podid's webhook injects. Prints the access token on stdout; errors on stderr, exit 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func main() {
	scope := flag.String("scope", "https://vault.azure.net/.default", "scope to request")
	clientID := flag.String("client-id", "", "user-assigned identity client ID")
	resourceID := flag.String("resource-id", "", "user-assigned identity ARM resource ID")
	useDefault := flag.Bool("default", false, "use DefaultAzureCredential")
	flag.Parse()

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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{*scope}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(tok.Token)
}
