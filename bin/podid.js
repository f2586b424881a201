#!/usr/bin/env node
// The podid executable from a source checkout: Node 24 runs the TypeScript directly (type stripping).
// The container image runs the compiled `dist/cli/main.js` instead (`npm run build`), which starts leaner.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `podid needs Node.js 24 or newer, and this is ${process.version}.\n` +
      `Run it through npm, which uses the project's own Node 24: npm start, or npm run podid -- <command> [flags].\n`,
  );
  process.exit(1);
}
await import('../cli/main.ts');
