/**
 * Sending through Amazon SES's API with the functions' own roles (Transport `ses`): what each
 * role may do, and no more. Every function that sends may call SendEmail, whose raw content SES
 * authorises as `ses:SendRawEmail` (both actions are granted, as SES's own examples do), on the
 * sending identity alone (the domain, and the address when one is named) and, when the
 * settings name one, the configuration set. The connection test may also read the account
 * (GetAccount, which has no resource-level permission) and the identity, for its `api` stage.
 *
 * Adds statements to the functions' roles (their default policies): nothing else is created.
 */
import { ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";

export interface SesSendingProps {
  /** The functions that send mail (send-notification, security-alert-check). */
  readonly senders: lambda.IFunction[];
  /** The connection test: it sends, and reads the account and the identity. */
  readonly tester: lambda.IFunction;
  /** The verified identity: a domain (`example.com`) or an address (`noreply@example.com`). */
  readonly identity: string;
  /**
   * The configuration set every message is sent with.
   *
   * @default - none: a SESConfigurationSet set later is refused until the stack names it
   */
  readonly configurationSet?: string;
}

export class SesSending {
  /** The identity ARNs the functions may send as. */
  readonly identityArns: string[];

  constructor(scope: Stack, props: SesSendingProps) {
    const stack = Stack.of(scope);
    const sesArn = (resource: "identity" | "configuration-set", resourceName: string) =>
      stack.formatArn({ service: "ses", resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const domain = props.identity.split("@").pop() as string;
    this.identityArns = [
      sesArn("identity", domain),
      ...(props.identity.includes("@") ? [sesArn("identity", props.identity)] : []),
    ];
    const send = new iam.PolicyStatement({
      sid: "SendAsTheIdentity",
      actions: ["ses:SendEmail", "ses:SendRawEmail"],
      resources: [
        ...this.identityArns,
        ...(props.configurationSet ? [sesArn("configuration-set", props.configurationSet)] : []),
      ],
    });
    for (const fn of [...props.senders, props.tester]) fn.addToRolePolicy(send);
    props.tester.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "ReadTheSendingIdentity",
        actions: ["ses:GetEmailIdentity"],
        resources: this.identityArns,
      }),
    );
    props.tester.addToRolePolicy(
      new iam.PolicyStatement({ sid: "ReadTheAccountsQuota", actions: ["ses:GetAccount"], resources: ["*"] }),
    );
  }
}
