// The oracle for podid's workload-identity injection: azure-workload-identity's own webhook (pkg/webhook at
// the version in go.mod), run on one case read from stdin, its output written to stdout; with `serve`, the same
// mutator behind controller-runtime's admission.Webhook over HTTPS (the Go peer of bench/workload-identity.ts).
//
// In:  {"pod": <Pod>, "serviceAccount": <ServiceAccount> | null, "namespace": "ns", "tenantID": "...", "kubeVersion": "v1.34.0"}
// Out: {"allowed": bool, "message": "...", "patch": [JSON Patch operations, as the apiserver gets them]}
//
// The apiserver's version (azwi injects a native sidecar from 1.32) comes from a /version served here on loopback.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/go-logr/logr"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/Azure/azure-workload-identity/pkg/webhook"
)

type input struct {
	Pod            json.RawMessage        `json:"pod"`
	ServiceAccount *corev1.ServiceAccount `json:"serviceAccount"`
	Namespace      string                 `json:"namespace"`
	TenantID       string                 `json:"tenantID"`
	KubeVersion    string                 `json:"kubeVersion"`
}

type output struct {
	Allowed bool                           `json:"allowed"`
	Message string                         `json:"message,omitempty"`
	Patch   []jsonpatch.JsonPatchOperation `json:"patch"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return err
	}
	handler, err := mutator(in)
	if err != nil {
		return err
	}
	resp := handler.Handle(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "oracle", Namespace: in.Namespace, Operation: admissionv1.Create,
		Kind:   metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Object: runtime.RawExtension{Raw: in.Pod},
	}})
	out := output{Allowed: resp.Allowed}
	if resp.Result != nil {
		out.Message = resp.Result.Message
	}
	out.Patch = resp.Patches
	return json.NewEncoder(os.Stdout).Encode(out)
}

// mutator is azwi's NewPodMutator over a fake client holding the input's ServiceAccount, told the apiserver's
// version by a /version served on loopback.
func mutator(in input) (admission.Handler, error) {
	version := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"major": "1", "minor": "34", "gitVersion": in.KubeVersion})
	}))
	defer version.Close()
	os.Setenv("AZURE_TENANT_ID", in.TenantID)
	os.Setenv("PROXY_IMAGE", "azwi-proxy:oracle")
	os.Setenv("PROXY_INIT_IMAGE", "azwi-proxy-init:oracle")
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	builder := fake.NewClientBuilder().WithScheme(scheme)
	if in.ServiceAccount != nil {
		builder = builder.WithObjects(in.ServiceAccount)
	}
	c := builder.Build()
	return webhook.NewPodMutator(c, c, "", scheme, &rest.Config{Host: version.URL})
}

// serve runs azwi's mutator as its webhook server does (controller-runtime's admission.Webhook over HTTPS) at
// /mutate, for bench/workload-identity.ts: serve CERT KEY INPUT-FILE. Prints {"url":"https://127.0.0.1:PORT"}.
func serve(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: azwi-webhook-oracle serve CERT KEY INPUT")
	}
	raw, err := os.ReadFile(args[2])
	if err != nil {
		return err
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		return err
	}
	// As azwi's manager sets one; discarding is the cheapest logger azwi could run with.
	ctrllog.SetLogger(logr.Discard())
	handler, err := mutator(in)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/mutate", &admission.Webhook{Handler: handler})
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("{\"url\":\"https://%s\"}\n", listener.Addr().String())
	return (&http.Server{Handler: mux}).ServeTLS(listener, args[0], args[1])
}
