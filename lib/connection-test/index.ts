export {
  type AllowedHosts,
  type ConnectionTestRequest,
  ConnectionTestRequestError,
  ConnectionTestRequestSchema,
  type ConnectionTestResponse,
  isHostAllowed,
  TEST_MESSAGE,
  type TestConnectionOptions,
  testConnection,
} from "./test-connection.ts";
