/** The typed client: `new MonitoringClient({ url, apiKey })`. See README, "The typed client". */
export * from './monitoring-client.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
