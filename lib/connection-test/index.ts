export {
  type AllowedHosts,
  type AllowedPorts,
  type ConnectionTestRequest,
  ConnectionTestRequestError,
  ConnectionTestRequestSchema,
  type ConnectionTestResponse,
  HTTPS_PORT,
  isHostAllowed,
  SMTP_PORTS,
  TEST_MESSAGE,
  type TestConnectionOptions,
  testConnection,
} from "./test-connection.ts";
export { scrubDeep, typedSecrets } from "./typed-secrets.ts";
