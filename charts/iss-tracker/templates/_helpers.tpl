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

{{/*
The labels every Pipeline of this release carries, as an equality selector: this release's
operator handles only the Pipelines it selects, and `helm uninstall` deletes only those, so two
releases can share a namespace.
*/}}
{{- define "iss-tracker.pipelineSelector" -}}
{{- printf "app.kubernetes.io/name=%s,app.kubernetes.io/instance=%s" (include "iss-tracker.name" .) .Release.Name }}
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
{{- printf "%s-kafka-bootstrap.%s.svc:%d" (include "iss-tracker.kafkaClusterName" .) .Release.Namespace (int (include "iss-tracker.kafkaPort" .)) }}
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

{{/* One value of a libpq keyword/value connection string: quoted, `\` and `'` escaped. */}}
{{- define "iss-tracker.conninfoValue" -}}
{{- printf "'%s'" (. | toString | replace "\\" "\\\\" | replace "'" "\\'") }}
{{- end }}

{{/*
Environment variables giving a process the database connection: <prefix>DATABASE_DSN in libpq's
keyword/value form without the password, and PGPASSWORD from the Secret, which libpq reads
itself. No password is ever pasted into a URL, so any character in it works.
Call with (dict "root" $ "prefix" "ISS_ENRICHER_").
*/}}
{{- define "iss-tracker.databaseEnv" -}}
{{- $v := .root.Values.database }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "iss-tracker.databaseSecretName" .root }}
      key: password
- name: {{ .prefix }}DATABASE_DSN
  value: {{ printf "host=%s port=%s dbname=%s user=%s sslmode=%s" (include "iss-tracker.conninfoValue" (include "iss-tracker.databaseHost" .root)) (include "iss-tracker.databasePort" .root) (include "iss-tracker.conninfoValue" $v.name) (include "iss-tracker.conninfoValue" $v.user) $v.sslmode | quote }}
{{- end }}

{{/* Secret holding the read-only role's password (key `password`). */}}
{{- define "iss-tracker.readerSecretName" -}}
{{- .Values.database.reader.existingSecret | default (include "iss-tracker.componentName" (dict "root" . "component" "db-reader")) }}
{{- end }}

{{/* Whether the chart's dashboards are read by some Grafana, so the read-only role is needed. */}}
{{- define "iss-tracker.readerNeeded" -}}
{{- if or .Values.grafana.enabled .Values.monitoring.grafanaDashboards.enabled }}true{{ end }}
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

{{/*
Security context of the containers Strimzi runs (its images' user is uid 1001): the chart's, plus
what Pod Security "restricted" asks of each container when the pod context (Strimzi's own, kept
for the fsGroup of the data volumes) does not say it: non-root and the RuntimeDefault seccomp profile.
*/}}
{{- define "iss-tracker.strimziContainerSecurityContext" -}}
{{- toYaml (merge (dict "runAsNonRoot" true "seccompProfile" (dict "type" "RuntimeDefault")) (deepCopy .Values.containerSecurityContext)) }}
{{- end }}

{{/*
Topology spread of one component's pods over nodes, when it has more than one.
Call with (dict "root" $ "selector" (dict ...) "replicas" N).
*/}}
{{- define "iss-tracker.topologySpread" -}}
{{- if and .root.Values.topologySpread.enabled (gt (int .replicas) 1) }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: {{ .root.Values.topologySpread.topologyKey }}
    whenUnsatisfiable: {{ .root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- toYaml .selector | nindent 8 }}
{{- end }}
{{- end }}

{{/*
Checksum of Secrets the user supplies (existingSecret values), read from the cluster, so an
upgrade after rotating one rolls the pods that read it (environment from a Secret is read at
start only). The chart's generated Secrets keep their values across upgrades and are left out.
Call with (dict "root" $ "names" (list ...)); empty names are skipped.
*/}}
{{- define "iss-tracker.userSecretsChecksum" -}}
{{- $data := list }}
{{- range .names }}
{{- if . }}
{{- $secret := lookup "v1" "Secret" $.root.Release.Namespace . }}
{{- $data = append $data (dict "name" . "data" (($secret | default dict).data | default dict)) }}
{{- end }}
{{- end }}
{{- toJson $data | sha256sum | trunc 16 }}
{{- end }}

{{/* Whether the chart's clients talk SASL_SSL to the release's Strimzi cluster. */}}
{{- define "iss-tracker.kafkaSecured" -}}
{{- if and .Values.kafka.enabled .Values.kafka.security.enabled }}true{{ end }}
{{- end }}

{{/* Port of the release's Kafka listener: 9093 (TLS + SCRAM) or 9092 (plaintext). */}}
{{- define "iss-tracker.kafkaPort" -}}
{{- if include "iss-tracker.kafkaSecured" . }}9093{{ else }}9092{{ end }}
{{- end }}

{{/*
Environment of a Kafka client of the chart on the secured cluster: its KafkaUser's name, the
password from the Secret the user operator makes for it, the cluster CA mounted by
iss-tracker.kafkaCaVolume. Nothing on a plaintext cluster.
Call with (dict "root" $ "prefix" "ISS_PRODUCER_" "component" "producer").
*/}}
{{- define "iss-tracker.kafkaClientEnv" -}}
{{- if include "iss-tracker.kafkaSecured" .root }}
{{- $user := include "iss-tracker.componentName" (dict "root" .root "component" .component) }}
- name: {{ .prefix }}KAFKA_USERNAME
  value: {{ $user | quote }}
- name: {{ .prefix }}KAFKA_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $user }}
      key: password
- name: {{ .prefix }}KAFKA_SECURITY_PROTOCOL
  value: SASL_SSL
- name: {{ .prefix }}KAFKA_SSL_CA_LOCATION
  value: /etc/iss-tracker/kafka-ca/ca.crt
{{- end }}
{{- end }}

{{/* The volume mount of the cluster CA, on the secured cluster. */}}
{{- define "iss-tracker.kafkaCaMount" -}}
{{- if include "iss-tracker.kafkaSecured" . }}
- name: kafka-ca
  mountPath: /etc/iss-tracker/kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* The volume of the cluster CA (Strimzi's <cluster>-cluster-ca-cert Secret), on the secured cluster. */}}
{{- define "iss-tracker.kafkaCaVolume" -}}
{{- if include "iss-tracker.kafkaSecured" . }}
- name: kafka-ca
  secret:
    secretName: {{ include "iss-tracker.kafkaClusterName" . }}-cluster-ca-cert
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end }}
