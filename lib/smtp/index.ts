export {
  type ConnectionCheckOptions,
  type ConnectionCheckResult,
  runConnectionCheck,
  type StageResult,
} from "./check.ts";
export {
  type ConnectionGate,
  type ConnectionLease,
  isLeased,
  type LeasedSession,
  leasedSession,
} from "./connection-gate.ts";
export { defaultEhloName, ehloNameFor, siteUrlHost } from "./ehlo.ts";
export { InvalidMessageError, SMTP_STAGES, type SmtpStage, SmtpStageError } from "./errors.ts";
export { htmlToText } from "./html-to-text.ts";
export { createSessionKeeper, type SessionKeeper, type SessionKeeperOptions } from "./keeper.ts";
export { createMailer, type Mailer, type MailerOptions, NotStartedError } from "./mailer.ts";
export {
  type ComposedMessage,
  composeMessage,
  MESSAGE_LIMITS,
  type OutgoingMessage,
  OutgoingMessageSchema,
  parseOutgoingMessage,
} from "./message.ts";
export { parsePreconnectHint, preconnectSmtp } from "./preconnect.ts";
export { scrub, secretForms } from "./secrets.ts";
export {
  checkSessionConfig,
  openSmtpSession,
  type SendResult,
  type SmtpSession,
  type SmtpSessionOptions,
} from "./session.ts";
export { settingsWarnings } from "./warnings.ts";
