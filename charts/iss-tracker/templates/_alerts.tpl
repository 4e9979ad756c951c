{{/*
Metrics job of one component: the job label its series carry, the same name under the bundled
Prometheus and under a PodMonitor (which relabels it), so every expression can be scoped to the
release by namespace and job. Call with (dict "root" $ "component" "producer").
*/}}
{{- define "iss-tracker.metricsJob" -}}
{{- include "iss-tracker.componentName" . }}
{{- end }}

{{/* The job of Strimzi's kafka-exporter: the name Strimzi gives its pods. */}}
{{- define "iss-tracker.kafkaExporterJob" -}}
{{- printf "%s-kafka-exporter" (include "iss-tracker.kafkaClusterName" .) }}
{{- end }}

{{/* PromQL label matchers of one component of this release. Same call as metricsJob. */}}
{{- define "iss-tracker.jobSelector" -}}
{{- printf "namespace=%q,job=%q" .root.Release.Namespace (include "iss-tracker.metricsJob" .) }}
{{- end }}

{{/*
The alerting rules, as the `groups` list of a Prometheus rule file. The bundled Prometheus loads
them from its ConfigMap; a PrometheusRule carries the same list. Every selector is scoped to the
release (namespace and job), the operator's series also to the release's Pipeline.
*/}}
{{- define "iss-tracker.alertGroups" -}}
{{- $r := .Values.alerting.rules }}
{{- $labels := $r.labels }}
{{- $ns := .Release.Namespace }}
{{- $rules := list }}
{{- if .Values.enricher.enabled }}
{{- $sel := include "iss-tracker.jobSelector" (dict "root" . "component" "enricher") }}
{{- $fresh := printf "iss_enricher_last_committed_event_timestamp_seconds{%s}" $sel }}
{{- /* last_over_time keeps the newest commit readable while the enricher cannot be scraped. */}}
{{- $rules = append $rules (dict
  "alert" "IssStoredDataStale"
  "expr" (printf "time() - max by (namespace, job) (last_over_time(%s[1h])) > %v\nor\nabsent_over_time(%s[1h])" $fresh $r.storedDataStale.thresholdSeconds $fresh)
  "for" $r.storedDataStale.for
  "labels" (merge (dict "severity" "critical") $labels)
  "annotations" (dict
    "summary" "Stored ISS positions are stale"
    "description" (printf "The newest position the enricher committed in %s is older than %v s, or no enricher reported one in the last hour. The operator restarts the enricher first; see docs/runbook.md." $ns $r.storedDataStale.thresholdSeconds))
) }}
{{- $rules = append $rules (dict
  "alert" "IssConsumerLagHigh"
  "expr" (printf "sum by (namespace, job) (iss_enricher_consumer_lag_messages{%s}) > %v" $sel $r.consumerLag.thresholdMessages)
  "for" $r.consumerLag.for
  "labels" (merge (dict "severity" "warning") $labels)
  "annotations" (dict
    "summary" "The enricher is falling behind the raw topic"
    "description" (printf "The enricher in %s is {{ $value }} messages behind the raw topic (more than %v)." $ns $r.consumerLag.thresholdMessages))
) }}
{{- $rules = append $rules (dict
  "alert" "IssDeadLettersArriving"
  "expr" (printf "sum by (namespace, job) (increase(iss_enricher_records_rejected_total{%s}[%s])) > 0" $sel $r.deadLetters.window)
  "for" $r.deadLetters.for
  "labels" (merge (dict "severity" "warning") $labels)
  "annotations" (dict
    "summary" "Records are going to the dead-letter topic"
    "description" (printf "The enricher in %s rejected about {{ $value | printf \"%%.0f\" }} records in the last %s; the dead-letter topic %s holds them with the reason." $ns $r.deadLetters.window .Values.kafka.topics.deadletter.name))
) }}
{{- end }}
{{- if .Values.producer.enabled }}
{{- $sel := include "iss-tracker.jobSelector" (dict "root" . "component" "producer") }}
{{- $rules = append $rules (dict
  "alert" "IssProducerOnFallbackSource"
  "expr" (printf "max by (namespace, job) (iss_producer_current_source{%s,source=%q}) == 0" $sel $r.producerFallback.primarySource)
  "for" $r.producerFallback.for
  "labels" (merge (dict "severity" "warning") $labels)
  "annotations" (dict
    "summary" "The producer is not on its primary source"
    "description" (printf "The producer in %s has not used %s for %s: it reads a fallback source (open-notify or SGP4 propagation of a TLE)." $ns $r.producerFallback.primarySource $r.producerFallback.for))
) }}
{{- end }}
{{- if and .Values.operator.enabled .Values.operator.pipeline.create }}
{{- $sel := printf "%s,pipeline=%q" (include "iss-tracker.jobSelector" (dict "root" . "component" "operator")) (printf "%s/%s" $ns (include "iss-tracker.pipelineName" .)) }}
{{- $checks := printf "iss_operator_checks_total{%s}" $sel }}
{{- $rules = append $rules (dict
  "alert" "IssRestartBudgetExhausted"
  "expr" (printf "sum by (namespace, job, pipeline) (increase(iss_operator_checks_total{%s,outcome=\"budgetexhausted\"}[%s])) > 0" $sel $r.restartBudget.window)
  "for" $r.restartBudget.for
  "labels" (merge (dict "severity" "critical") $labels)
  "annotations" (dict
    "summary" "The operator has used its restart budget"
    "description" (printf "Pipeline {{ $labels.pipeline }} is still unhealthy after %v restarts in the last hour; the operator no longer restarts it. A person has to look: see docs/runbook.md." .Values.operator.pipeline.maxRestartsPerHour))
) }}
{{- $rules = append $rules (dict
  "alert" "IssOperatorNotChecking"
  "expr" (printf "sum by (namespace, job, pipeline) (increase(%s[%s])) == 0\nor\nabsent_over_time(%s[%s])" $checks $r.operatorChecks.window $checks $r.operatorChecks.window)
  "for" $r.operatorChecks.for
  "labels" (merge (dict "severity" "critical") $labels)
  "annotations" (dict
    "summary" "The operator is not checking the pipeline"
    "description" (printf "No check of Pipeline %s/%s in the last %s: nothing restarts a stuck component. Is the operator running, paused or unable to reach Prometheus?" $ns (include "iss-tracker.pipelineName" .) $r.operatorChecks.window))
) }}
{{- end }}
{{- $groups := list }}
{{- if $rules }}
{{- $groups = append $groups (dict "name" (printf "iss-tracker.%s.%s" $ns (include "iss-tracker.fullname" .)) "rules" $rules) }}
{{- end }}
{{- toYaml (dict "groups" $groups) }}
{{- end }}
