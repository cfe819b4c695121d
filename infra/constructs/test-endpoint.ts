/**
 * The connection test's door: `POST /email/test` on an HTTP API, callable only with IAM
 * credentials (SigV4), throttled, and access-logged to a log group of its own. The API's
 * `$default` stage is declared here rather than by the API so throttling and logs can be set.
 *
 * Adds its resources to `scope` itself, under the ids they have always had (infra/stack.ts says
 * why): a new API would be a new URL.
 */
import { Duration } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { connectionTestTimeoutSeconds } from "../sizing.ts";

/** The route, relative to the stage URL. */
export const TEST_ROUTE = "email/test";

export interface TestEndpointProps {
  /** The connection-test function the route invokes. */
  readonly handler: lambda.IFunction;

  /** Steady requests per second across the API (context testEndpointRateLimit). */
  readonly rateLimit: number;

  /** Requests allowed at once above the rate (context testEndpointBurstLimit). */
  readonly burstLimit: number;

  /** How long the access log group keeps its events. */
  readonly logRetention: logs.RetentionDays;

  /**
   * How long the API waits for the function.
   *
   * @default - the connection test's timeout, 29 s (infra/sizing.ts)
   */
  readonly timeout?: Duration;
}

export class TestEndpoint {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  /** The route's full URL (`https://…/email/test`). */
  readonly url: string;

  constructor(scope: Construct, props: TestEndpointProps) {
    const accessLogs = new logs.LogGroup(scope, "TestEndpointAccessLogs", { retention: props.logRetention });
    this.api = new apigw.HttpApi(scope, "TestApi", {
      description: "Mattermost email connection test",
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    this.stage = new apigw.HttpStage(scope, "TestApiStage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
    this.api.addRoutes({
      path: `/${TEST_ROUTE}`,
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration("ConnectionTest", props.handler, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
        timeout: props.timeout ?? Duration.seconds(connectionTestTimeoutSeconds()),
      }),
    });
    this.url = `${this.stage.url}${TEST_ROUTE}`;
  }
}
