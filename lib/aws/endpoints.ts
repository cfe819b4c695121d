/**
 * Where a service lives in each AWS partition, as the AWS SDK resolves it (its endpoint rules for
 * SSM and SQS; test/lib/aws/endpoints.test.ts compares every partition, FIPS and dual-stack
 * against the SDK's own resolver). The explicit endpoint variables win, as in the SDK:
 * AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL; AWS_USE_FIPS_ENDPOINT and
 * AWS_USE_DUALSTACK_ENDPOINT choose the variant.
 */
type Env = Readonly<Record<string, string | undefined>>;

interface Partition {
  id: string;
  /** Which regions belong to it. */
  regions: RegExp;
  dnsSuffix: string;
  dualStackDnsSuffix: string;
}

/** The partitions, most specific first; `aws` takes every other region. */
const PARTITIONS: readonly Partition[] = [
  {
    id: "aws-cn",
    regions: /^cn-\w+-\d+$/,
    dnsSuffix: "amazonaws.com.cn",
    dualStackDnsSuffix: "api.amazonwebservices.com.cn",
  },
  {
    id: "aws-us-gov",
    regions: /^us-gov-\w+-\d+$/,
    dnsSuffix: "amazonaws.com",
    dualStackDnsSuffix: "api.aws",
  },
  {
    id: "aws-iso",
    regions: /^us-iso-\w+-\d+$/,
    dnsSuffix: "c2s.ic.gov",
    dualStackDnsSuffix: "api.aws.ic.gov",
  },
  {
    id: "aws-iso-b",
    regions: /^us-isob-\w+-\d+$/,
    dnsSuffix: "sc2s.sgov.gov",
    dualStackDnsSuffix: "api.aws.scloud",
  },
  {
    id: "aws-iso-e",
    regions: /^eu-isoe-\w+-\d+$/,
    dnsSuffix: "cloud.adc-e.uk",
    dualStackDnsSuffix: "api.cloud-aws.adc-e.uk",
  },
  {
    id: "aws-iso-f",
    regions: /^us-isof-\w+-\d+$/,
    dnsSuffix: "csp.hci.ic.gov",
    dualStackDnsSuffix: "api.aws.hci.ic.gov",
  },
  {
    id: "aws-eusc",
    regions: /^eusc-(de)-\w+-\d+$/,
    dnsSuffix: "amazonaws.eu",
    dualStackDnsSuffix: "api.amazonwebservices.eu",
  },
];
const AWS: Partition = {
  id: "aws",
  regions: /.*/,
  dnsSuffix: "amazonaws.com",
  dualStackDnsSuffix: "api.aws",
};

export const partitionOf = (region: string): Partition =>
  PARTITIONS.find((p) => p.regions.test(region)) ?? AWS;

const isTrue = (value: string | undefined) => value?.toLowerCase() === "true";

export interface EndpointVariant {
  fips?: boolean;
  dualStack?: boolean;
}

/** The service's endpoint for a region and variant, with no explicit endpoint configured. */
export function regionalEndpoint(
  service: string,
  region: string,
  { fips = false, dualStack = false }: EndpointVariant = {},
): URL {
  const partition = partitionOf(region);
  const suffix = dualStack ? partition.dualStackDnsSuffix : partition.dnsSuffix;
  // In GovCloud the plain endpoints are the FIPS ones: the SDK's rules send FIPS there (without
  // dual-stack) and use no `-fips` name.
  const fipsName = fips && !(partition.id === "aws-us-gov" && !dualStack);
  return new URL(`https://${service}${fipsName ? "-fips" : ""}.${region}.${suffix}`);
}

/** The endpoint a client in this environment uses for `service`. */
export function serviceEndpoint(env: Env, service: string, region: string): URL {
  const explicit = env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env.AWS_ENDPOINT_URL;
  if (explicit) return new URL(explicit);
  return regionalEndpoint(service, region, {
    fips: isTrue(env.AWS_USE_FIPS_ENDPOINT),
    dualStack: isTrue(env.AWS_USE_DUALSTACK_ENDPOINT),
  });
}
