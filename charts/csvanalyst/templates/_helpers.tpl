{{/* Name prefix of every object: <release>-csvanalyst, or the release name when it already says csvanalyst. */}}
{{- define "csvanalyst.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name label is fixed: runner Jobs carry app.kubernetes.io/name=csvanalyst and the policies select on it. */}}
{{- define "csvanalyst.labels" -}}
app.kubernetes.io/name: csvanalyst
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "csvanalyst.serverSelector" -}}
app.kubernetes.io/name: csvanalyst
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Exactly the labels the executor puts on runner pods (plus the release, from CSVANALYST_K8S_LABELS). */}}
{{- define "csvanalyst.runnerSelector" -}}
app.kubernetes.io/name: csvanalyst
app.kubernetes.io/component: runner
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "csvanalyst.serverServiceAccount" -}}
{{- include "csvanalyst.fullname" . }}-server
{{- end -}}

{{- define "csvanalyst.runnerServiceAccount" -}}
{{- include "csvanalyst.fullname" . }}-runner
{{- end -}}

{{- define "csvanalyst.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "csvanalyst.fullname" .)) -}}
{{- end -}}

{{- define "csvanalyst.storeClaim" -}}
{{- .Values.persistence.store.existingClaim | default (printf "%s-store" (include "csvanalyst.fullname" .)) -}}
{{- end -}}

{{- define "csvanalyst.datasetsClaim" -}}
{{- .Values.persistence.datasets.existingClaim | default (printf "%s-datasets" (include "csvanalyst.fullname" .)) -}}
{{- end -}}

{{- define "csvanalyst.kubernetesSandbox" -}}
{{- if eq .Values.sandbox.provider "kubernetes" -}}true{{- end -}}
{{- end -}}

{{/* Runner pods must share the server's node when the datasets claim is ReadWriteOnce (null = decide from it). */}}
{{- define "csvanalyst.colocate" -}}
{{- $c := .Values.runner.colocateWithServer -}}
{{- if kindIs "invalid" $c -}}
{{- $modes := .Values.persistence.datasets.accessModes -}}
{{- if and (eq (len $modes) 1) (has "ReadWriteOnce" $modes) -}}true{{- end -}}
{{- else if $c -}}true{{- end -}}
{{- end -}}

{{- define "csvanalyst.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "csvanalyst.pvc" -}}
{{- $claim := index .root.Values.persistence .which -}}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .name }}
  labels:
    {{- include "csvanalyst.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .which }}
  annotations:
    # Deleting the release keeps the data.
    helm.sh/resource-policy: keep
spec:
  accessModes:
    {{- toYaml $claim.accessModes | nindent 4 }}
  {{- with $claim.storageClass }}
  storageClassName: {{ if eq . "-" }}""{{ else }}{{ . | quote }}{{ end }}
  {{- end }}
  resources:
    requests:
      storage: {{ $claim.size | quote }}
{{- end -}}
