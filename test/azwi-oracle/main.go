// The oracle for podid's workload-identity injection: azure-workload-identity's own webhook (pkg/webhook at
// the version in go.mod), run on one case read from stdin, its output written to stdout.
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
	"net/http"
	"net/http/httptest"
	"os"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
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
	version := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"major": "1", "minor": "34", "gitVersion": in.KubeVersion})
	}))
	defer version.Close()
	os.Setenv("AZURE_TENANT_ID", in.TenantID)
	os.Setenv("PROXY_IMAGE", "azwi-proxy:oracle")
	os.Setenv("PROXY_INIT_IMAGE", "azwi-proxy-init:oracle")

	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return err
	}
	builder := fake.NewClientBuilder().WithScheme(scheme)
	if in.ServiceAccount != nil {
		builder = builder.WithObjects(in.ServiceAccount)
	}
	c := builder.Build()
	handler, err := webhook.NewPodMutator(c, c, "", scheme, &rest.Config{Host: version.URL})
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
