/** Real Lambda event and context shapes, as AWS delivers them, for driving handlers in tests. */
import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from "aws-lambda";

let counter = 0;

export function lambdaContext(functionName = "test-function"): Context {
  const requestId = `req-${++counter}-${Date.now()}`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/11/24/[$LATEST]abc",
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export function sqsRecord(
  body: unknown,
  {
    messageId = crypto.randomUUID() as string,
    receiveCount = 1,
  }: { messageId?: string; receiveCount?: number } = {},
): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "0",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:notifications",
    awsRegion: "us-east-1",
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

/** What EventBridge puts on a queue it targets. */
export function eventBridgeEnvelope(detail: unknown) {
  return {
    version: "0",
    id: crypto.randomUUID(),
    "detail-type": "Notification Requested",
    source: "chat.server",
    account: "123456789012",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: [],
    detail,
  };
}

/** An HTTP API (payload 2.0) request, IAM-authorised. */
export function httpEvent(
  body: string | undefined,
  { headers = { "content-type": "application/json" }, isBase64Encoded = false } = {},
): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "POST /email/test",
    rawPath: "/email/test",
    rawQueryString: "",
    headers,
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "api.example.com",
      domainPrefix: "api",
      http: {
        method: "POST",
        path: "/email/test",
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "test",
      },
      requestId: crypto.randomUUID(),
      routeKey: "POST /email/test",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded,
  };
}

/** Collects a handler's log lines and parses them. */
export function captureLogs() {
  const lines: string[] = [];
  return {
    write: (line: string) => {
      lines.push(line);
    },
    lines,
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join("\n"),
  };
}
