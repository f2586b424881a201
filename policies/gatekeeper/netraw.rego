package podidnetraw

import rego.v1

# The NET_RAW rule (policies/README.md): every container, init container and ephemeral container must drop
# NET_RAW or ALL, must not add either, and must not be privileged. input.parameters.exemptNamespaces and
# input.parameters.exemptLabels (a map that a pod template's labels must all match) exempt objects.

template_path := {
	"Pod": [],
	"ReplicationController": ["spec", "template"],
	"Deployment": ["spec", "template"],
	"StatefulSet": ["spec", "template"],
	"DaemonSet": ["spec", "template"],
	"ReplicaSet": ["spec", "template"],
	"Job": ["spec", "template"],
	"CronJob": ["spec", "jobTemplate", "spec", "template"],
}

pod := object.get(input.review.object, template_path[input.review.kind.kind], null)

exempt if input.review.namespace in object.get(input.parameters, "exemptNamespaces", [])

exempt if {
	wanted := object.get(input.parameters, "exemptLabels", {})
	count(wanted) > 0
	labels := object.get(pod, ["metadata", "labels"], {})
	every key, value in wanted {
		labels[key] == value
	}
}

containers contains [kind, c] if {
	some kind in ["containers", "initContainers", "ephemeralContainers"]
	some c in object.get(pod, ["spec", kind], [])
}

capability(name) := upper(trim_prefix(upper(trim_space(name)), "CAP_"))

covers_net_raw(list) if {
	some name in list
	is_string(name)
	capability(name) in {"NET_RAW", "ALL"}
}

caps(c, field) := list if {
	list := object.get(c, ["securityContext", "capabilities", field], [])
	is_array(list)
} else := []

singular := {"containers": "container", "initContainers": "initContainer", "ephemeralContainers": "ephemeralContainer"}

violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	not covers_net_raw(caps(c, "drop"))
	msg := sprintf("%s %q does not drop NET_RAW: add \"NET_RAW\" (or \"ALL\") to securityContext.capabilities.drop", [singular[kind], c.name])
}

violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	covers_net_raw(caps(c, "add"))
	msg := sprintf("%s %q adds NET_RAW: remove \"NET_RAW\" and \"ALL\" from securityContext.capabilities.add", [singular[kind], c.name])
}

violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	object.get(c, ["securityContext", "privileged"], false) == true
	msg := sprintf("%s %q is privileged: set securityContext.privileged: false", [singular[kind], c.name])
}
