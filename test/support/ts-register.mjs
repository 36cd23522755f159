// Test support: lets a child `node --import ./test/support/ts-register.mjs script.ts` run TypeScript (transpile only).
import { register } from 'node:module';

register(new URL('./ts-loader.mjs', import.meta.url));
