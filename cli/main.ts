// Process entry point: `node dist/cli/main.js` in the image, `bin/podid.js` from source.
import { main } from './podid.ts';

process.exitCode = await main(process.argv.slice(2), process.env);
