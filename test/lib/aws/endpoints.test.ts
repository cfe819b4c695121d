/** The lite client's endpoints, region by region and variant by variant, against the AWS SDK's own resolver. */
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { regionalEndpoint, serviceEndpoint } from "../../../lib/aws/endpoints.ts";
import { REGION_OF_EACH_PARTITION } from "../../helpers/partitions.ts";

const REGIONS = REGION_OF_EACH_PARTITION;
const VARIANTS = [
  { fips: false, dualStack: false },
  { fips: true, dualStack: false },
  { fips: false, dualStack: true },
  { fips: true, dualStack: true },
];
const credentials = { accessKeyId: "x", secretAccessKey: "y" };

async function sdkEndpoint(service: "ssm" | "sqs", region: string, fips: boolean, dualStack: boolean) {
  const client =
    service === "ssm" ? new SSMClient({ region, credentials }) : new SQSClient({ region, credentials });
  const resolve = (client.config as unknown as { endpointProvider: (p: object) => { url: URL } })
    .endpointProvider;
  return resolve({ Region: region, UseFIPS: fips, UseDualStack: dualStack }).url.href;
}

describe("endpoints in every partition", () => {
  for (const service of ["ssm", "sqs"] as const) {
    it.each(REGIONS)(
      `${service} in %s, plain, FIPS, dual-stack and both, as the SDK resolves it`,
      async (region) => {
        for (const { fips, dualStack } of VARIANTS) {
          expect(
            regionalEndpoint(service, region, { fips, dualStack }).href,
            `${region} fips=${fips} dualStack=${dualStack}`,
          ).toBe(await sdkEndpoint(service, region, fips, dualStack));
        }
      },
    );
  }

  it("honours AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT, and the explicit endpoint variables first", () => {
    expect(serviceEndpoint({ AWS_USE_FIPS_ENDPOINT: "true" }, "ssm", "us-east-1").href).toBe(
      "https://ssm-fips.us-east-1.amazonaws.com/",
    );
    expect(serviceEndpoint({ AWS_USE_DUALSTACK_ENDPOINT: "TRUE" }, "ssm", "cn-north-1").href).toBe(
      "https://ssm.cn-north-1.api.amazonwebservices.com.cn/",
    );
    expect(
      serviceEndpoint(
        {
          AWS_ENDPOINT_URL: "http://127.0.0.1:1",
          AWS_ENDPOINT_URL_SSM: "http://127.0.0.1:2",
          AWS_USE_FIPS_ENDPOINT: "true",
        },
        "ssm",
        "us-east-1",
      ).href,
    ).toBe("http://127.0.0.1:2/");
    expect(serviceEndpoint({ AWS_ENDPOINT_URL: "http://127.0.0.1:1" }, "sqs", "us-east-1").href).toBe(
      "http://127.0.0.1:1/",
    );
  });
});
