/**
 * The fleet's send schedule: a DynamoDB table of one item, the next free send slot, that every
 * send-notification container takes its slots from, so their sends start one interval apart
 * (lib/notifications/fleet-schedule.ts, docs/delivery.md), when the provider limits a rate; and,
 * when it does not, the rate the fleet learned from the provider's throttles
 * (lib/notifications/learned-rate.ts) and the leases of its connections, under the limit learned
 * from the provider's refusal (lib/notifications/connection-leases.ts). On demand: a few writes a
 * second at most, the provider's rate; without a rate, a read every ten seconds a container and a
 * write a throttle; without a connection limit, a read and three writes a session, a write every
 * 10 s it is open, and a read every 0.4 s a container waits for a connection.
 *
 * Adds its resources to `scope` itself, like every part of the stack (infra/stack.ts says why).
 */
import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { SEND_SCHEDULE_KEY } from "../../lib/aws-dynamodb/index.ts";
import { formatRate } from "../provider-limits.ts";
import { addFunctionEnvironment } from "./email-function.ts";

export interface SendScheduleProps {
  /** send-notification: it reads and moves the schedule, and is told where it is. */
  readonly sender: lambda.Function;

  /**
   * The provider's rate for the whole fleet, messages a second: the slots' spacing.
   *
   * @default - none configured: the fleet learns one, and keeps it here
   */
  readonly fleetRatePerSecond?: number;

  /**
   * The provider's connection limit for the whole fleet (the stack sizes the fleet under it).
   *
   * @default - none configured: the fleet counts its connections here and learns the limit
   */
  readonly fleetMaxConnections?: number;
}

export class SendSchedule {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, props: SendScheduleProps) {
    this.table = new dynamodb.Table(scope, "SendSchedule", {
      partitionKey: { name: SEND_SCHEDULE_KEY.attribute, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // A slot time, stale within seconds: nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Exactly the calls the schedule makes (lib/aws-dynamodb/send-schedule.ts), on this table only.
    props.sender.addToRolePolicy(
      new iam.PolicyStatement({
        sid: "SendSchedule",
        actions: ["dynamodb:UpdateItem", "dynamodb:GetItem"],
        resources: [this.table.tableArn],
      }),
    );
    addFunctionEnvironment(props.sender, {
      SEND_SCHEDULE_TABLE: this.table.tableName,
      ...(props.fleetRatePerSecond !== undefined
        ? { FLEET_SEND_RATE_PER_SECOND: formatRate(props.fleetRatePerSecond) }
        : {}),
      ...(props.fleetMaxConnections !== undefined
        ? { FLEET_MAX_CONNECTIONS: String(props.fleetMaxConnections) }
        : {}),
    });
  }
}
