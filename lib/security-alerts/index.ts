export {
  BULLETIN_SUBJECT,
  runSecurityAlertCheck,
  type SecurityAlertCheckOptions,
  type SecurityAlertReport,
  SecurityAlertRunError,
} from "./check.ts";
export { type SecurityAlertConfig, SecurityAlertConfigError, securityAlertConfig } from "./config.ts";
export { DEFAULT_MAX_BULLETINS_PER_RUN } from "./defaults.ts";
export { type Bulletin, FeedError, type FeedLimits, fetchBulletinHtml, fetchBulletinList } from "./feed.ts";
export { memorySentStore } from "./memory-sent-store.ts";
export {
  type ClaimResult,
  SENT_MARKER_FOLDERS,
  type SentStore,
  StaleClaimError,
  ssmSentStore,
} from "./sent-store.ts";
