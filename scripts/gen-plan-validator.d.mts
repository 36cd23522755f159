// Types of scripts/gen-plan-validator.mjs for the test that keeps the generated plan validator equal to the schema.
import type { Ajv, ValidateFunction } from 'ajv';
export declare const generatedFile: string;
export declare function compilePlanSchema(schema: Record<string, unknown>): { ajv: Ajv; validate: ValidateFunction };
export declare function planValidatorSource(schemaText: string): string;
