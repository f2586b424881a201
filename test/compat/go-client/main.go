// A real Go application: azidentity's ManagedIdentityCredential or DefaultAzureCredential, or MSAL Go's
// managed identity client (mode msal), with only the environment podid's webhook injects. Prints the access
// token on stdout; errors on stderr, exit 1.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	// Same arguments as the other compatibility clients: <scope> [mi|default|msal] [clientId=|resourceId=|objectId=<id>].
	args := append(os.Args[1:], "", "", "")
	scope, mode := args[0], args[1]
	kind, value, _ := strings.Cut(args[2], "=")

	timeout := 60 * time.Second
	if s, err := time.ParseDuration(os.Getenv("COMPAT_TIMEOUT")); err == nil {
		timeout = s
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	if mode == "msal" {
		id := managedidentity.SystemAssigned()
		switch kind {
		case "clientId":
			id = managedidentity.UserAssignedClientID(value)
		case "resourceId":
			id = managedidentity.UserAssignedResourceID(value)
		case "objectId":
			id = managedidentity.UserAssignedObjectID(value)
		}
		client, err := managedidentity.New(id)
		if err != nil {
			fail(err)
		}
		res, err := client.AcquireToken(ctx, strings.TrimSuffix(scope, "/.default"))
		if err != nil {
			fail(err)
		}
		fmt.Print(res.AccessToken)
		return
	}

	var cred azcore.TokenCredential
	var err error
	if mode == "default" {
		// azidentity reads a user-assigned client id for DefaultAzureCredential from AZURE_CLIENT_ID only.
		cred, err = azidentity.NewDefaultAzureCredential(nil)
	} else {
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		switch kind {
		case "clientId":
			opts.ID = azidentity.ClientID(value)
		case "resourceId":
			opts.ID = azidentity.ResourceID(value)
		case "objectId":
			opts.ID = azidentity.ObjectID(value)
		}
		cred, err = azidentity.NewManagedIdentityCredential(opts)
	}
	if err != nil {
		fail(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		fail(err)
	}
	fmt.Print(tok.Token)
}
