/**
 * The settings in SSM Parameter Store, the one place every function reads at run time: the
 * non-secret EmailSettings from context as String parameters, the security alerts' recipients,
 * and the two policies over that namespace: reading the settings (every function) and writing
 * the sent markers (the alert check alone).
 *
 * The SMTP password is a SecureString, which CloudFormation cannot create: it is only named here
 * (`passwordParameterName`) and, with a customer managed key, may be decrypted through SSM alone.
 *
 * Adds its resources to `scope` itself, under the ids they have always had (infra/stack.ts says
 * why): the parameters have fixed names, so a changed logical id would fail the update.
 */
import { ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as ssm from "aws-cdk-lib/aws-ssm";
import type { Construct } from "constructs";
import { SENT_MARKER_FOLDERS } from "../../lib/security-alerts/index.ts";
import {
  parameterNameFor,
  RECIPIENTS_PARAMETER,
  SECRET_SETTINGS,
  type SettingName,
  storedParameterNames,
  TRANSPORT_SETTING_NAMES,
} from "../../lib/settings/index.ts";

/** The parameters only the alert check may write, relative to the root: its marker folders. */
export const SENT_MARKER_PATHS: readonly string[] = Object.values(SENT_MARKER_FOLDERS).map(
  (folder) => `${folder}/*`,
);

export interface SettingsParametersProps {
  /** SSM root of the settings, without a trailing slash, like `/mattermost`. */
  readonly settingsPath: string;

  /**
   * Non-secret EmailSettings by name, each stored as `<root>/EmailSettings/<name>`. An empty value
   * is left out: SSM cannot hold "", and an unset setting takes its default.
   *
   * @default - none stored (every setting takes its default, or a value set outside the stack)
   */
  readonly emailSettings?: Readonly<Record<string, string | number | boolean>>;

  /**
   * The product's own non-secret settings (EmailTransportSettings), each stored as
   * `<root>/EmailTransportSettings/<name>`. Given at all (`{}` too), the functions may read that
   * section and decrypt its secrets (`readsTransportSettings`).
   *
   * @default - the section is not used: the read policy names the reference's parameters alone
   */
  readonly transportSettings?: Readonly<Record<string, string | number | boolean>>;

  /**
   * Comma-separated admin addresses for security bulletins, stored as the recipients parameter.
   *
   * @default - no parameter
   */
  readonly securityAlertRecipients?: string;

  /**
   * The customer managed KMS key of the password parameter: the read policy may then decrypt
   * with it, through SSM and for that parameter only.
   *
   * @default - the aws/ssm key, whose own policy already lets SSM decrypt for the account
   */
  readonly passwordKmsKeyArn?: string;
}

export class SettingsParameters {
  /** SSM root of the settings. */
  readonly settingsPath: string;
  /** The SecureString the operator creates (README): named, never created, by the stack. */
  readonly passwordParameterName: string;
  /** What every function's role needs to load the settings (an inline policy of each). */
  readonly readPolicy: iam.PolicyDocument;
  /** Claiming and marking bulletins: the alert check's own policy, under the marker folders only. */
  readonly sentMarkerPolicy: iam.PolicyDocument;
  /** The functions read the product's own section too (READ_TRANSPORT_SETTINGS). */
  readonly readsTransportSettings: boolean;

  constructor(scope: Construct, props: SettingsParametersProps) {
    const stack = Stack.of(scope);
    const root = props.settingsPath;
    const arn = (name: string) =>
      stack.formatArn({
        service: "ssm",
        resource: "parameter",
        resourceName: name.slice(1),
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    this.settingsPath = root;
    this.passwordParameterName = parameterNameFor(root, "SMTPPassword");
    this.readsTransportSettings = props.transportSettings !== undefined;

    const stored = [
      ...Object.entries(props.emailSettings ?? {}).map(([name, value]) => ({
        id: `Setting${name}`,
        name,
        value,
      })),
      ...Object.entries(props.transportSettings ?? {}).map(([name, value]) => ({
        id: `TransportSetting${name}`,
        name,
        value,
      })),
    ];
    for (const { id, name, value } of stored) {
      // SSM cannot hold "": leaving the parameter out gives the default ("none" spells no security).
      if (value === "") continue;
      const parameterName = parameterNameFor(root, name as SettingName);
      new ssm.StringParameter(scope, id, {
        parameterName,
        stringValue: String(value),
        description: `${parameterName.slice(root.length + 1).replace("/", ".")} (managed by the stack)`,
      });
    }
    // The secrets whose SecureStrings the functions decrypt: the password, and the section's own.
    const secretArns = [
      arn(this.passwordParameterName),
      ...(this.readsTransportSettings
        ? TRANSPORT_SETTING_NAMES.filter((n) => SECRET_SETTINGS.has(n)).map((n) =>
            arn(parameterNameFor(root, n)),
          )
        : []),
    ];
    if (props.securityAlertRecipients) {
      new ssm.StringParameter(scope, "SecurityAlertRecipients", {
        parameterName: `${root}/${RECIPIENTS_PARAMETER}`,
        stringValue: props.securityAlertRecipients,
        description: "Comma-separated admin addresses for security bulletins",
      });
    }

    this.readPolicy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: "ReadSettingsByName",
          actions: ["ssm:GetParameters"],
          // Exactly the parameters the settings are read from (lib/settings/parameters.ts).
          resources: storedParameterNames(root, { transportSettings: this.readsTransportSettings }).map(arn),
        }),
        // The aws/ssm key's own policy lets SSM decrypt for the account's principals; a customer
        // managed key needs this, scoped to SSM and to the secrets' parameters.
        ...(props.passwordKmsKeyArn
          ? [
              new iam.PolicyStatement({
                sid: "DecryptPasswordViaSsmOnly",
                actions: ["kms:Decrypt"],
                resources: [props.passwordKmsKeyArn],
                conditions: {
                  StringEquals: {
                    "kms:ViaService": `ssm.${stack.region}.amazonaws.com`,
                    "kms:EncryptionContext:PARAMETER_ARN":
                      secretArns.length === 1 ? secretArns[0] : secretArns,
                  },
                },
              }),
            ]
          : []),
      ],
    });

    this.sentMarkerPolicy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: "ClaimAndMarkBulletins",
          actions: ["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
          resources: SENT_MARKER_PATHS.map((path) => arn(`${root}/${path}`)),
        }),
      ],
    });
  }
}
