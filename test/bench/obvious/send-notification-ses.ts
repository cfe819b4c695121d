/**
 * The obvious SES implementation, the baseline of issue 17's SES figures: the same handler with
 * every heavy dependency imported eagerly (the SSM client, @aws-sdk/client-sesv2, nodemailer,
 * full zod, middy), its settings read with the SDK's GetParametersByPath (sdk-settings.ts), and
 * each message sent with the SDK's SESv2Client and SendEmailCommand (raw content) instead of the
 * lite client.
 */
import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { SSMClient } from "@aws-sdk/client-ssm";
import middy from "@middy/core";
import nodemailer from "nodemailer";
import { z } from "zod";
import { createHandler } from "../../../functions/send-notification.ts";
import type { SesApi } from "../../../lib/aws-ses/index.ts";
import { sdkSettingsStore } from "./sdk-settings.ts";

export const eager = [SSMClient, middy, nodemailer.createTransport, z.object, SESv2Client];

const client = new SESv2Client({});

/** SendEmail through the SDK, as the product's mailer asks for it. */
const sdkSes: SesApi = {
  async request<T>({ body }: { body?: Record<string, unknown> }) {
    const input = body as {
      FromEmailAddress: string;
      Destination: { ToAddresses: string[] };
      Content: { Raw: { Data: string } };
      ConfigurationSetName?: string;
      EmailTags?: Array<{ Name: string; Value: string }>;
    };
    const out = await client.send(
      new SendEmailCommand({
        ...input,
        Content: { Raw: { Data: Buffer.from(input.Content.Raw.Data, "base64") } },
      }),
    );
    return { MessageId: out.MessageId } as T;
  },
};

export const handler = createHandler({ store: sdkSettingsStore(), smtp: { ses: () => sdkSes } });
