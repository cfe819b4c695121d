export { isSsmError, type SsmApi, SsmError, type SsmOperation } from "./api.ts";
export { type LiteSsmOptions, liteSsmApi, ssmEndpoint } from "./client.ts";
export { ssmApiFromEnv } from "./from-env.ts";
export {
  getParameters,
  getParameterValue,
  type StoredParameter,
  secureStringKeyId,
} from "./reads.ts";
export { createParameter, deleteParameter, putParameter } from "./writes.ts";
