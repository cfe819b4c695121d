export { TokenError, type TokenErrorDetails } from "./errors.ts";
export { type TokenFacts, tokenFacts } from "./facts.ts";
export {
  GOOGLE_SCOPE,
  GOOGLE_TOKEN_ENDPOINT,
  MICROSOFT_AUTHORITY,
  MICROSOFT_SCOPE,
  scopeOf,
  tokenEndpointOf,
} from "./requests.ts";
export {
  type AccessToken,
  type AccessTokens,
  type AccessTokensOptions,
  createAccessTokens,
  type TokenAsk,
} from "./tokens.ts";
