/**
 * The testEndpointAllowedPorts context: checked at synth like every key, and given to the
 * connection-test function alone as TEST_ALLOWED_PORTS, which the function reads by the same rule.
 */
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { readVariable } from "../../functions/environment.ts";
import { deploymentConfig } from "../../infra/config.ts";
import { buildStack } from "./synth.ts";

const config = (context: Record<string, unknown>) =>
  deploymentConfig((key) => context[key], Object.keys(context));

describe("testEndpointAllowedPorts", () => {
  it("takes ports (as numbers, or as -c gives them) or * alone; unset by default", () => {
    expect(config({}).testEndpointAllowedPorts).toBeUndefined();
    expect(config({ testEndpointAllowedPorts: [587, "10025"] }).testEndpointAllowedPorts).toEqual([
      587, 10025,
    ]);
    expect(config({ testEndpointAllowedPorts: "[587, 10025]" }).testEndpointAllowedPorts).toEqual([
      587, 10025,
    ]);
    expect(config({ testEndpointAllowedPorts: ["*"] }).testEndpointAllowedPorts).toEqual(["*"]);
  });

  it.each([
    [[0], /testEndpointAllowedPorts\.0: must be a port from 1 to 65535, or \*/],
    [[65_536], /testEndpointAllowedPorts\.0: must be a port from 1 to 65535, or \*/],
    [["smtp"], /testEndpointAllowedPorts\.0: must be a port from 1 to 65535, or \*/],
    [[25, 2.5], /testEndpointAllowedPorts\.1: must be a port from 1 to 65535, or \*/],
    [["*", 25], /testEndpointAllowedPorts: must be \["\*"\] alone, or ports/],
    [[], /testEndpointAllowedPorts: /],
    ["587,10025", /testEndpointAllowedPorts must be a JSON array/],
  ])("refuses %j at synth, naming the key and the rule", (value, message) => {
    expect(() => config({ testEndpointAllowedPorts: value })).toThrow(message);
  });

  it("reaches the connection-test function as TEST_ALLOWED_PORTS, and no other function", () => {
    const { stack } = buildStack({ context: { testEndpointAllowedPorts: [25, 587, 10025] } });
    const fns = Template.fromStack(stack).findResources("AWS::Lambda::Function");
    const withPorts = Object.entries(fns).filter(
      ([, fn]) => fn.Properties.Environment?.Variables?.TEST_ALLOWED_PORTS !== undefined,
    );
    expect(withPorts.map(([id]) => id)).toEqual([
      stack.getLogicalId(stack.functions["connection-test"].node.defaultChild as never),
    ]);
    const value = withPorts[0]?.[1].Properties.Environment.Variables.TEST_ALLOWED_PORTS;
    expect(value).toBe("25,587,10025");
    expect(readVariable({ TEST_ALLOWED_PORTS: value }, "TEST_ALLOWED_PORTS")).toEqual([25, 587, 10025]);
    expect(readVariable({ TEST_ALLOWED_PORTS: ["*"].join(",") }, "TEST_ALLOWED_PORTS")).toBe("*");
  });

  it("is not set without the context: the function's defaults apply", () => {
    const { stack } = buildStack();
    const fns = Template.fromStack(stack).findResources("AWS::Lambda::Function");
    expect(
      Object.values(fns).some((fn) => fn.Properties.Environment?.Variables?.TEST_ALLOWED_PORTS !== undefined),
    ).toBe(false);
  });
});
