{{/* The image every component runs, the injected sidecar included. */}}
{{- define "podid.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The injected token sidecar's image: the minimal sidecar stage of the Dockerfile, with the same tag. */}}
{{- define "podid.sidecarImage" -}}
{{ .Values.image.sidecarRepository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Labels on every object, as deploy/'s kustomization sets them. */}}
{{- define "podid.labels" -}}
app.kubernetes.io/part-of: podid
{{- end -}}

{{- define "podid.pullPolicy" -}}
{{- with .Values.image.pullPolicy }}
imagePullPolicy: {{ . }}
{{- end }}
{{- end -}}

{{- define "podid.podMeta" -}}
{{- $c := index . 0 -}}{{- $name := index . 1 -}}
labels:
  app.kubernetes.io/name: {{ $name }}
  {{- with $c.podLabels }}{{ toYaml . | nindent 2 }}{{ end }}
{{- with $c.podAnnotations }}
annotations: {{ toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Scheduling of a component's pods: pull secrets, node selector, tolerations, affinity, priority. */}}
{{- define "podid.scheduling" -}}
{{- $c := index . 0 -}}{{- $root := index . 1 -}}{{- $defaultAffinity := index . 2 -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets: {{ toYaml . | nindent 2 }}
{{- end }}
{{- if $c.affinity }}
affinity: {{ toYaml $c.affinity | nindent 2 }}
{{- else if $defaultAffinity }}
affinity: {{ $defaultAffinity | nindent 2 }}
{{- end }}
{{- with $c.nodeSelector }}
nodeSelector: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with $c.tolerations }}
tolerations: {{ toYaml . | nindent 2 }}
{{- end }}
{{- with $c.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/* Preferred anti-affinity: replicas on different nodes. */}}
{{- define "podid.spread" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: {{ . }}
{{- end -}}
