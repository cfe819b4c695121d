/**
 * The obvious OAuth2 implementation, the baseline of issue 17's cold start: every heavy dependency
 * imported eagerly (the SSM client, MSAL, nodemailer, full zod, middy); the settings read with the
 * SDK's GetParametersByPath over the whole root (sdk-settings.ts); then, one after another, the
 * token from Microsoft's identity platform with @azure/msal-node's client-credentials flow, and
 * nodemailer's transport with `auth: { type: "OAuth2", user, accessToken }` sending the batch.
 * MSAL is given the authority's metadata, so it skips the discovery request a real one makes
 * first: the baseline is, if anything, flattered.
 */

import { SSMClient } from "@aws-sdk/client-ssm";
import { ConfidentialClientApplication } from "@azure/msal-node";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import nodemailer from "nodemailer";
import { z } from "zod";
import { loadEmailSettings } from "../../../lib/settings/index.ts";
import { sdkSettingsStore } from "./sdk-settings.ts";

export const eager = [SSMClient, middy, nodemailer.createTransport, z.object, ConfidentialClientApplication];

const store = sdkSettingsStore();

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const s = (await loadEmailSettings({ store })).values;
  const endpoint = s.OAuth2TokenEndpoint;
  const authority = endpoint.replace(/\/oauth2\/v2\.0\/token$/, "");
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: s.OAuth2ClientId,
      clientSecret: s.OAuth2ClientSecret,
      authority,
      knownAuthorities: [new URL(authority).host],
      authorityMetadata: JSON.stringify({
        token_endpoint: endpoint,
        issuer: authority,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        jwks_uri: `${authority}/discovery/v2.0/keys`,
      }),
    },
  });
  const token = await msal.acquireTokenByClientCredential({
    scopes: ["https://outlook.office365.com/.default"],
  });
  const transport = nodemailer.createTransport({
    host: s.SMTPServer,
    port: s.SMTPPort,
    secure: false,
    requireTLS: true,
    name: s.FeedbackEmail.split("@")[1],
    auth: { type: "OAuth2", user: s.SMTPUsername, accessToken: token?.accessToken ?? "" },
  });
  const failures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    try {
      const body = JSON.parse(record.body) as { to: string; subject: string; text?: string; html?: string };
      await transport.sendMail({ from: { name: s.FeedbackName, address: s.FeedbackEmail }, ...body });
    } catch {
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  transport.close();
  return { batchItemFailures: failures };
}
