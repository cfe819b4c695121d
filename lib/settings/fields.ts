/**
 * What every setting's parser is made of: the rule a raw value broke, and the one-line text
 * value most settings are. schema.ts and transport-fields.ts build their fields from these.
 */
/** The rule a value broke, as a field parser reports it. */
export class Broken {
  readonly rule: string;
  constructor(rule: string) {
    this.rule = rule;
  }
}
export const broken = (rule: string) => new Broken(rule);

const LINE_BREAK = /[\r\n]/;

export const textValue = (value: unknown): string | Broken =>
  typeof value !== "string"
    ? broken("must be a string")
    : LINE_BREAK.test(value)
      ? broken("must not contain line breaks (CR or LF)")
      : value;
