/**
 * The scheduled security-bulletin check: fetch the feed, and mail each bulletin that applies to
 * this version and was not sent before to every admin address, recording it as sent only after
 * every recipient accepted it. Unlike the reference, send errors are not ignored and disabled
 * email is honoured.
 */
import type { Logger } from "../logger.ts";
import type { EmailSettings } from "../settings/index.ts";
import type { Mailer } from "../smtp/index.ts";
import type { SecurityAlertConfig } from "./config.ts";
import { DEFAULT_MAX_BULLETINS_PER_RUN } from "./defaults.ts";
import { BULLETIN_ID, type FeedLimits, fetchBulletinHtml, fetchBulletinList } from "./feed.ts";
import { type SentStore, StaleClaimError } from "./sent-store.ts";

export const BULLETIN_SUBJECT = "Mattermost Security Bulletin";

export interface SecurityAlertCheckOptions {
  settings: EmailSettings;
  /**
   * Feed URL, version and recipients (securityAlertConfig). Read only once the check is known
   * to be enabled, so a disabled deployment needs none of them.
   */
  config: () => SecurityAlertConfig;
  store: SentStore;
  /** Opened only when there is something to send. */
  mailer: () => Mailer;
  logger: Logger;
  limits?: FeedLimits;
  /**
   * Bulletins one run may claim and mail at most (each claim creates one or two parameters).
   * A wrong or compromised feed cannot then mail hundreds of bulletins to every admin, nor fill
   * the account's parameter quota; past it the run fails, so its alarm says so. Default 5
   * (DEFAULT_MAX_BULLETINS_PER_RUN).
   */
  maxPerRun?: number;
}

export interface SecurityAlertReport {
  status: "disabled" | "checked";
  sent: string[];
  skipped: Array<{ id: string; reason: string }>;
  failed: Array<{ id: string; error: string }>;
  /** Set when more bulletins applied than one run may mail: how many were left for later runs. */
  capped?: { limit: number; left: number };
}

/** Some bulletins could not be sent; they stay unsent and the next run tries them again. */
export class SecurityAlertRunError extends Error {
  override readonly name = "SecurityAlertRunError";
  readonly report: SecurityAlertReport;
  constructor(report: SecurityAlertReport) {
    const failed = report.failed.length
      ? `${report.failed.length} security bulletin(s) not sent: ${report.failed.map((f) => `${f.id}: ${f.error}`).join("; ")}`
      : "";
    const capped = report.capped
      ? `${report.capped.left} more applicable bulletin(s) than the ${report.capped.limit} one run may mail: check the feed (SECURITY_FEED_URL), then raise SECURITY_ALERT_MAX_PER_RUN if they are genuine`
      : "";
    super([failed, capped].filter(Boolean).join("; "));
    this.report = report;
  }
}

/** SSM throttles bursts: a write that failed once is worth two more tries before giving up. */
async function withRetries<T>(write: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await write();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
  }
}

export async function runSecurityAlertCheck(
  options: SecurityAlertCheckOptions,
): Promise<SecurityAlertReport> {
  const { settings, logger, store } = options;
  const report: SecurityAlertReport = { status: "checked", sent: [], skipped: [], failed: [] };
  if (!settings.EnableSecurityFixAlert || !settings.SendEmailNotifications) {
    logger.info("Security alerts are off: nothing checked", {
      EnableSecurityFixAlert: settings.EnableSecurityFixAlert,
      SendEmailNotifications: settings.SendEmailNotifications,
    });
    return { ...report, status: "disabled" };
  }

  const { feedUrl, appVersion, recipients } = options.config();
  const bulletins = await fetchBulletinList(feedUrl, options.limits);
  const applicable = bulletins.filter((b) => b.applies_to_version === appVersion);
  logger.info("Security bulletin feed read", { bulletins: bulletins.length, applicable: applicable.length });

  const maxPerRun = options.maxPerRun ?? DEFAULT_MAX_BULLETINS_PER_RUN;
  let claimed = 0;
  let left = 0;
  let mailer: Mailer | undefined;
  try {
    for (const { id } of applicable) {
      if (!BULLETIN_ID.test(id)) {
        report.skipped.push({ id, reason: "id has characters an SSM name cannot hold" });
        logger.warn("Security bulletin skipped: unusable id", { id: id.slice(0, 200) });
        continue;
      }
      if (claimed >= maxPerRun) {
        left++;
        continue;
      }
      let claim: Awaited<ReturnType<SentStore["claim"]>>;
      try {
        claim = await store.claim(id);
      } catch (error) {
        // One bulletin's trouble (SSM throttling its claim) must not cost the others their turn.
        report.failed.push({ id, error: error instanceof Error ? error.message : String(error) });
        logger.error(
          error instanceof StaleClaimError
            ? "A claim older than its lease cannot be taken over: the bulletin waits for an operator"
            : "Could not claim a security bulletin; the next run tries again",
          { id, error },
        );
        continue;
      }
      if (claim.claimed && claim.tookOver) {
        logger.warn("Took over a claim older than its lease: a run died holding it", {
          id,
          since: claim.tookOver,
        });
      }
      if (claim.claimed) claimed++;
      if (!claim.claimed) {
        report.skipped.push({ id, reason: claim.reason });
        logger.info("Security bulletin skipped", { id, reason: claim.reason, since: claim.since });
        continue;
      }
      let delivered = false;
      try {
        const html = await fetchBulletinHtml(feedUrl, id, options.limits);
        mailer ??= options.mailer();
        const m = mailer;
        // One message per admin, To holding one address as the reference sends it. allSettled: the
        // claim must not be released while other admins' sends are still going out.
        const results = await Promise.allSettled(
          recipients.map((to) => m.send({ to, subject: BULLETIN_SUBJECT, html })),
        );
        const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
        if (refused.length > 0) {
          logger.error("Security bulletin refused for some admins", {
            id,
            refused: refused.length,
            of: recipients.length,
          });
          throw refused[0];
        }
        delivered = true;
        await withRetries(() => store.markSent(id, claim.token, { recipients: recipients.length }));
        report.sent.push(id);
        logger.info("Security bulletin sent", { id, recipients: recipients.length });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        report.failed.push({ id, error: message });
        if (delivered) {
          // Every admin has it; only the record failed. Keeping the claim keeps the next runs from
          // mailing it again (until the claim is stale: see the README).
          logger.error("Security bulletin sent but not recorded; its claim is kept so it is not sent again", {
            id,
            error,
          });
          continue;
        }
        await store.release(id, claim.token).catch((releaseError: unknown) => {
          logger.error("Could not release the claim on a bulletin; it is retried once the claim is stale", {
            id,
            error: releaseError,
          });
        });
        logger.error("Security bulletin not sent; the next run tries again", { id, error });
      }
    }
  } finally {
    await mailer?.close();
  }
  if (left > 0) {
    report.capped = { limit: maxPerRun, left };
    logger.error("More security bulletins applied than one run may mail: the rest wait for later runs", {
      limit: maxPerRun,
      left,
    });
  }
  if (report.failed.length > 0 || report.capped) throw new SecurityAlertRunError(report);
  return report;
}
