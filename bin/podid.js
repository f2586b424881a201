#!/usr/bin/env node
// The podid executable. Node 24 runs the TypeScript sources directly (type stripping).
import { main } from '../cli/podid.ts';

process.exitCode = await main(process.argv.slice(2), process.env);
