/**
 * The obvious bundle, the cold-start baseline: every heavy dependency imported eagerly at top
 * level (the full SSM client, nodemailer, full zod, middy), then the same handler doing the same
 * work, its settings read as the obvious implementation reads them (sdk-settings.ts: the SDK's
 * GetParametersByPath, page after page). The references keep esbuild from dropping the imports.
 */
import { SSMClient } from "@aws-sdk/client-ssm";
import middy from "@middy/core";
import nodemailer from "nodemailer";
import { z } from "zod";

export const eager = [SSMClient, middy, nodemailer.createTransport, z.object];

import { createHandler } from "../../../functions/connection-test.ts";
import { sdkSettingsStore } from "./sdk-settings.ts";

export const handler = createHandler({ store: sdkSettingsStore() });
