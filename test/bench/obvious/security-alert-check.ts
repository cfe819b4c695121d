/**
 * The obvious bundle, the cold-start baseline: every heavy dependency imported eagerly at top
 * level (the full SSM client, nodemailer, full zod, middy), then the same handler doing the same
 * work. The references keep esbuild from dropping the imports.
 */
import { SSMClient } from "@aws-sdk/client-ssm";
import middy from "@middy/core";
import nodemailer from "nodemailer";
import { z } from "zod";

export const eager = [SSMClient, middy, nodemailer.createTransport, z.object];
export { handler } from "../../../functions/security-alert-check.ts";
