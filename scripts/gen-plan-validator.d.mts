// Types of scripts/gen-plan-validator.mjs for the test that keeps the generated plan validator equal to the schema.
export declare const generatedFile: string;
export declare function planValidatorSource(schemaText: string): string;
