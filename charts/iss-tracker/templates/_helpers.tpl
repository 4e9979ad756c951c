{{/* Chart name, cut to 63 characters (the DNS label limit). */}}
{{- define "iss-tracker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the release name, plus the chart name unless the release name already contains it.
Cut to 63 characters minus room for the longest suffix a component adds.
*/}}
{{- define "iss-tracker.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "iss-tracker.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels common to every object. */}}
{{- define "iss-tracker.labels" -}}
helm.sh/chart: {{ include "iss-tracker.chart" . }}
{{ include "iss-tracker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: iss-tracker
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels: stable across upgrades, so no version in them. */}}
{{- define "iss-tracker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "iss-tracker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component. Call with (dict "root" $ "component" "producer"). */}}
{{- define "iss-tracker.componentLabels" -}}
{{ include "iss-tracker.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "producer"). */}}
{{- define "iss-tracker.componentSelectorLabels" -}}
{{ include "iss-tracker.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Name of one component's objects. Call with (dict "root" $ "component" "producer"). */}}
{{- define "iss-tracker.componentName" -}}
{{- printf "%s-%s" (include "iss-tracker.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Service account of one component. Call with (dict "root" $ "component" "operator"). */}}
{{- define "iss-tracker.serviceAccountName" -}}
{{- include "iss-tracker.componentName" . }}
{{- end }}

{{/* Image reference: repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "iss-tracker.image" -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion }}
{{- if hasPrefix "sha256:" $tag }}
{{- printf "%s@%s" .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/* Name of the Strimzi Kafka cluster. */}}
{{- define "iss-tracker.kafkaClusterName" -}}
{{- include "iss-tracker.componentName" (dict "root" . "component" "kafka") }}
{{- end }}

{{/* Kafka bootstrap servers: Strimzi's bootstrap Service, or the external address. */}}
{{- define "iss-tracker.kafkaBootstrap" -}}
{{- if .Values.kafka.enabled }}
{{- printf "%s-kafka-bootstrap.%s.svc:9092" (include "iss-tracker.kafkaClusterName" .) .Release.Namespace }}
{{- else }}
{{- required "kafka.externalBootstrap is required when kafka.enabled is false" .Values.kafka.externalBootstrap }}
{{- end }}
{{- end }}

{{/* Database host: the release's TimescaleDB Service, or the external host. */}}
{{- define "iss-tracker.databaseHost" -}}
{{- if .Values.database.enabled }}
{{- printf "%s.%s.svc" (include "iss-tracker.componentName" (dict "root" . "component" "timescaledb")) .Release.Namespace }}
{{- else }}
{{- required "database.external.host is required when database.enabled is false" .Values.database.external.host }}
{{- end }}
{{- end }}

{{/* Database port. */}}
{{- define "iss-tracker.databasePort" -}}
{{- if .Values.database.enabled }}{{ .Values.database.port }}{{ else }}{{ .Values.database.external.port }}{{ end }}
{{- end }}

{{/* Secret holding the database password (key `password`). */}}
{{- define "iss-tracker.databaseSecretName" -}}
{{- if .Values.database.enabled }}
{{- .Values.database.existingSecret | default (include "iss-tracker.componentName" (dict "root" . "component" "db-credentials")) }}
{{- else }}
{{- required "database.existingSecret is required when database.enabled is false" .Values.database.existingSecret }}
{{- end }}
{{- end }}

{{/* Secret holding the Grafana admin credentials (keys `admin-user`, `admin-password`). */}}
{{- define "iss-tracker.grafanaSecretName" -}}
{{- .Values.grafana.existingSecret | default (include "iss-tracker.componentName" (dict "root" . "component" "grafana-admin")) }}
{{- end }}

{{/*
A password kept across upgrades: the value already stored in the Secret when it exists,
a new random one otherwise. Call with (dict "root" $ "secret" NAME "key" KEY).
*/}}
{{- define "iss-tracker.keptPassword" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}

{{/*
Environment variables giving a process the database connection. The password comes from the
Secret; <prefix>DATABASE_DSN is assembled by the kubelet from the variable above it.
Call with (dict "root" $ "prefix" "ISS_ENRICHER_").
*/}}
{{- define "iss-tracker.databaseEnv" -}}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "iss-tracker.databaseSecretName" .root }}
      key: password
- name: {{ .prefix }}DATABASE_DSN
  value: {{ printf "postgresql://%s:$(DATABASE_PASSWORD)@%s:%s/%s" .root.Values.database.user (include "iss-tracker.databaseHost" .root) (include "iss-tracker.databasePort" .root) .root.Values.database.name | quote }}
{{- end }}

{{/* Name of the Pipeline resource. */}}
{{- define "iss-tracker.pipelineName" -}}
{{- .Values.operator.pipeline.name | default (include "iss-tracker.fullname" .) }}
{{- end }}

{{/* Prometheus base URL inside the cluster. */}}
{{- define "iss-tracker.prometheusUrl" -}}
{{- printf "http://%s.%s.svc:%v" (include "iss-tracker.componentName" (dict "root" . "component" "prometheus")) .Release.Namespace .Values.prometheus.port }}
{{- end }}

{{/* Pod-level fields shared by the project's own pods. */}}
{{- define "iss-tracker.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Scheduling fields of one component. Call with the component's values. */}}
{{- define "iss-tracker.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* ConfigMap of one dashboard file. Call with (dict "root" $ "path" "files/dashboards/x.json"). */}}
{{- define "iss-tracker.dashboardConfigMapName" -}}
{{- $stem := base .path | trimSuffix ".json" | lower | replace "_" "-" | replace "." "-" }}
{{- printf "%s-dashboard-%s" (include "iss-tracker.fullname" .root) $stem | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Security context of the containers Strimzi runs (its images' user is uid 1001). */}}
{{- define "iss-tracker.strimziContainerSecurityContext" -}}
{{- toYaml (merge (dict "runAsNonRoot" true) (deepCopy .Values.containerSecurityContext)) }}
{{- end }}
