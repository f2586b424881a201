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

# Spellings as the runtimes read them (podspec/netraw-rule.ts cites containerd's and CRI-O's code): containerd
# drops "CAP_" + upper(name) untrimmed, so in drop only NET_RAW or ALL in any letter case count; in add, anything
# that trims and upper-cases to NET_RAW, CAP_NET_RAW, ALL or CAP_ALL is refused.
drops_net_raw(list) if {
	some name in list
	is_string(name)
	upper(name) in {"NET_RAW", "ALL"}
}

adds_net_raw(list) if {
	some name in list
	is_string(name)
	trim_prefix(upper(trim_space(name)), "CAP_") in {"NET_RAW", "ALL"}
}

caps(c, field) := list if {
	list := object.get(c, ["securityContext", "capabilities", field], [])
	is_array(list)
} else := []

singular := {"containers": "container", "initContainers": "initContainer", "ephemeralContainers": "ephemeralContainer"}

violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	not drops_net_raw(caps(c, "drop"))
	msg := sprintf("%s %q does not drop NET_RAW: add \"NET_RAW\" (or \"ALL\") to securityContext.capabilities.drop", [singular[kind], c.name])
}

violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	adds_net_raw(caps(c, "add"))
	msg := sprintf("%s %q adds NET_RAW: remove \"NET_RAW\" and \"ALL\" from securityContext.capabilities.add", [singular[kind], c.name])
}

violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	object.get(c, ["securityContext", "privileged"], false) == true
	msg := sprintf("%s %q is privileged: set securityContext.privileged: false", [singular[kind], c.name])
}

# A security context of the wrong shape is refused, never read as "no capabilities".
violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	caps := object.get(c, ["securityContext", "capabilities"], null)
	caps != null
	not is_object(caps)
	msg := sprintf("%s %q: securityContext.capabilities must be an object with add and drop lists", [singular[kind], c.name])
}

violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	some field in ["add", "drop"]
	names := object.get(c, ["securityContext", "capabilities", field], null)
	names != null
	not list_of_strings(names)
	msg := sprintf("%s %q: securityContext.capabilities.%s must be a list of capability names", [singular[kind], c.name, field])
}

violation contains {"msg": msg} if {
	not exempt
	some [kind, c] in containers
	p := object.get(c, ["securityContext", "privileged"], null)
	p != null
	not is_boolean(p)
	msg := sprintf("%s %q: securityContext.privileged must be a boolean", [singular[kind], c.name])
}

list_of_strings(names) if {
	is_array(names)
	every n in names {
		is_string(n)
	}
}
