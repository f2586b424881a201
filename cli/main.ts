// Process entry point: `node dist/podid.js` in the image (bundled: build/bundle.ts), `bin/podid.js` from source.
import { main } from './podid.ts';

process.exitCode = await main(process.argv.slice(2), process.env);
