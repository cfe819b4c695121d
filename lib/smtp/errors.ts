/**
 * SmtpStageError: every SMTP failure as one typed error that says which protocol stage failed,
 * the server's reply code when there was one, whether retrying may help, and what to change.
 */

/**
 * The stages of a send, in the order a session goes through them: `api` is the SES transport's
 * call; `token` is awaiting the OAuth2 access token (fetched while the connection opens) before AUTH.
 */
export const SMTP_STAGES = [
  "config",
  "api",
  "dns",
  "connect",
  "tls",
  "greeting",
  "starttls",
  "token",
  "auth",
  "mail-from",
  "rcpt",
  "data",
  "timeout",
] as const;
export type SmtpStage = (typeof SMTP_STAGES)[number];

export interface SmtpStageErrorDetails {
  stage: SmtpStage;
  /** A stable machine code: nodemailer's (EAUTH, ETIMEDOUT…), a system one (ECONNREFUSED…) or ours (EINSECUREAUTH…). */
  code: string;
  /** Worth retrying later (4xx, timeouts, resets) as opposed to permanent (5xx, auth, TLS verification, bad message). */
  transient: boolean;
  /**
   * The provider is limiting this sender (a rate or connection limit, a 421): transient, and a
   * sign to slow down rather than to try the next message at once. Default false.
   */
  throttle?: boolean;
  /**
   * A daily quota is spent (Google's 550 5.4.5, SES's daily message quota): transient, but only
   * after the quota resets, hours away. Default false.
   */
  quota?: boolean;
  /** The SMTP reply code, when the server answered. */
  responseCode?: number;
  /** The server's reply, secrets removed. */
  response?: string;
  /** The SMTP command that failed, when there was one (never with its arguments' secrets). */
  command?: string;
  cause?: unknown;
}

export class SmtpStageError extends Error {
  override readonly name = "SmtpStageError";
  readonly stage: SmtpStage;
  readonly code: string;
  readonly transient: boolean;
  readonly throttle: boolean;
  readonly quota: boolean;
  readonly responseCode?: number;
  readonly response?: string;
  readonly command?: string;

  /** `message` is one line that tells an operator what to change. */
  constructor(message: string, details: SmtpStageErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.stage = details.stage;
    this.code = details.code;
    this.transient = details.transient || details.throttle === true || details.quota === true;
    this.throttle = details.throttle === true;
    this.quota = details.quota === true;
    if (details.responseCode !== undefined) this.responseCode = details.responseCode;
    if (details.response !== undefined) this.response = details.response;
    if (details.command !== undefined) this.command = details.command;
  }

  /** The shape returned to callers and written to logs: no stack, no cause. */
  toJSON(): {
    stage: SmtpStage;
    code: string;
    responseCode?: number;
    transient: boolean;
    throttle?: true;
    quota?: true;
    message: string;
    command?: string;
  } {
    return {
      stage: this.stage,
      code: this.code,
      ...(this.responseCode === undefined ? {} : { responseCode: this.responseCode }),
      transient: this.transient,
      ...(this.throttle ? { throttle: true as const } : {}),
      ...(this.quota ? { quota: true as const } : {}),
      message: this.message,
      ...(this.command === undefined ? {} : { command: this.command }),
    };
  }
}

/** The message model broke a rule: permanent, nothing was sent. */
export class InvalidMessageError extends Error {
  override readonly name = "InvalidMessageError";
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`Invalid message: ${issues.join("; ")}`);
    this.issues = issues;
  }
}
