export { EMF_LIMITS, emfLines, type MetricsLineOptions, type MetricUnit, type MetricValues } from "./emf.ts";
export { METRIC_DIMENSION_SETS, METRIC_DIMENSIONS, METRICS, METRICS_NAMESPACE } from "./names.ts";
export { createMetricsPublisher, type MetricsPublisher, type MetricsPublisherOptions } from "./publisher.ts";
