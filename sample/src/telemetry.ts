import { Logger } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

// Loopback only: the metrics are for a Prometheus on this machine, not for the network.
const host = '127.0.0.1';
const port = Number(process.env.METRICS_PORT ?? 9464);

/** Where Prometheus scrapes the app's metrics, the module's `hop_*` ones among them. */
const metricsUrl = `http://${host}:${port}/metrics`;

/** Serves every meter's metrics on {@link metricsUrl}; shutting it down stops that server. */
export const meterProvider = new MeterProvider({
  readers: [
    new PrometheusExporter({ host, port }, (error) => {
      const logger = new Logger('Telemetry');
      if (error) {
        logger.error(
          `No metrics on ${metricsUrl}: ${error.message} (set METRICS_PORT to another port)`,
        );
      } else {
        logger.log(`Serving metrics for Prometheus on ${metricsUrl}`);
      }
    }),
  ],
});

// Before the Nest app is created (main.ts imports this file first): the module takes its meter
// when it is created, and a meter taken from the API's no-op provider stays a no-op.
metrics.setGlobalMeterProvider(meterProvider);
