// The floor for any Node sidecar, for bench/sidecar.ts: a bare node:http server on two loopback ports (as the sidecar
// has a token port and a health port) answering every request with a fixed JSON body, started with the same Node
// binary and flags. It announces its URLs on stderr in one JSON line, as `podid sidecar` does. Plain JavaScript
// (no type stripping) and node:http through process.getBuiltinModule (an ESM import of node:http also loads undici).

const http = process.getBuiltinModule('node:http');
const body = '{"status":"ok"}';

function answer(_req, res) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

function listen() {
  return new Promise((resolve) => {
    const server = http.createServer(answer);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

const [tokenUrl, healthUrl] = await Promise.all([listen(), listen()]);
process.stderr.write(`${JSON.stringify({ msg: 'bare server listening', tokenUrl, healthUrl })}\n`);
process.once('SIGTERM', () => process.exit(0));
