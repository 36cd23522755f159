// Types of scripts/gen-config-validator.mjs for the test that keeps the generated config validator equal to the schema.
import type { Ajv, ValidateFunction } from 'ajv';
export declare const generatedFile: string;
export declare function compileConfigSchema(schema: Record<string, unknown>): { ajv: Ajv; validate: ValidateFunction };
export declare function configValidatorSource(schemaText: string): string;
