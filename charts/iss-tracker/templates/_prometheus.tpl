{{/* The scrape configuration: one job per component switched on, plus kafka-exporter. */}}
{{- define "iss-tracker.prometheusConfig" -}}
{{- $jobs := list }}
{{- range $component := list "producer" "enricher" "operator" "liveview" }}
{{- if (index $.Values $component).enabled }}
{{- $jobs = append $jobs (dict "job" (printf "iss-%s" $component) "label" "app_kubernetes_io_component" "value" $component "port" "metrics") }}
{{- end }}
{{- end }}
{{- if and .Values.kafka.enabled .Values.kafka.exporter.enabled }}
{{- $jobs = append $jobs (dict "job" "kafka-exporter" "label" "strimzi_io_name" "value" (printf "%s-kafka-exporter" (include "iss-tracker.kafkaClusterName" .)) "port" "tcp-prometheus") }}
{{- end }}
global:
  scrape_interval: {{ .Values.prometheus.scrapeInterval }}
  evaluation_interval: {{ .Values.prometheus.scrapeInterval }}
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
      {{- if hasPrefix "iss-" .job }}
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
