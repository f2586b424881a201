#!/usr/bin/env node
// The podid executable from a source checkout: Node 24 runs the TypeScript directly (type stripping).
// The container image runs the compiled `dist/cli/main.js` instead (`npm run build`), which starts leaner.
import '../cli/main.ts';
