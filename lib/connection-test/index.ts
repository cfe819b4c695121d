export {
  type ConnectionTestRequest,
  ConnectionTestRequestError,
  ConnectionTestRequestSchema,
  type ConnectionTestResponse,
  TEST_MESSAGE,
  type TestConnectionOptions,
  testConnection,
} from "./test-connection.ts";
