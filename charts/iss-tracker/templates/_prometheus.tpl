{{/*
The Prometheus configuration: one scrape job per component switched on, plus kafka-exporter, each
named by iss-tracker.metricsJob; the alerting rules; the Alertmanagers alerts go to.
*/}}
{{- define "iss-tracker.prometheusConfig" -}}
{{- $jobs := list }}
{{- range $component := list "producer" "enricher" "operator" "liveview" }}
{{- if (index $.Values $component).enabled }}
{{- $jobs = append $jobs (dict "job" (include "iss-tracker.metricsJob" (dict "root" $ "component" $component)) "label" "app_kubernetes_io_component" "value" $component "port" "metrics" "release" true) }}
{{- end }}
{{- end }}
{{- if and .Values.kafka.enabled .Values.kafka.exporter.enabled }}
{{- $jobs = append $jobs (dict "job" (include "iss-tracker.kafkaExporterJob" .) "label" "strimzi_io_name" "value" (include "iss-tracker.kafkaExporterJob" .) "port" "tcp-prometheus" "release" false) }}
{{- end }}
global:
  scrape_interval: {{ .Values.prometheus.scrapeInterval }}
  evaluation_interval: {{ .Values.prometheus.scrapeInterval }}
{{- $alertmanagers := .Values.alerting.alertmanagers }}
{{- if .Values.alertmanager.enabled }}
{{- $alertmanagers = prepend $alertmanagers (printf "%s.%s.svc:%v" (include "iss-tracker.componentName" (dict "root" . "component" "alertmanager")) .Release.Namespace .Values.alertmanager.port) }}
{{- end }}
{{- if .Values.alerting.rules.enabled }}
rule_files:
  - /etc/prometheus/alerts.yml
{{- end }}
{{- with $alertmanagers }}
alerting:
  alertmanagers:
    - static_configs:
        - targets:
            {{- toYaml . | nindent 12 }}
{{- end }}
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:9090"]
  {{- range $jobs }}
  - job_name: {{ .job }}
    kubernetes_sd_configs:
      - role: pod
        namespaces:
          names: [{{ $.Release.Namespace | quote }}]
    relabel_configs:
      {{- if .release }}
      - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_instance]
        regex: {{ $.Release.Name | quote }}
        action: keep
      {{- end }}
      - source_labels: [__meta_kubernetes_pod_label_{{ .label }}]
        regex: {{ .value | quote }}
        action: keep
      - source_labels: [__meta_kubernetes_pod_container_port_name]
        regex: {{ .port | quote }}
        action: keep
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
  {{- end }}
  {{- with .Values.prometheus.extraScrapeConfigs }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
