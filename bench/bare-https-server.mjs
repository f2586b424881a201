// The floor for an admission webhook in Node, for bench/webhook.ts: a bare node:https server, same Node binary and
// flags, that reads each POST body and answers with a fixed body of the size of podid's /mutate answer (GET: a
// small one). What is left between it and podid's /mutate is podid's own work: parsing, checking and planning.
// Usage: node bench/bare-https-server.mjs CERT KEY ANSWER_BYTES; prints {"url": ...} on stdout when listening.

const https = process.getBuiltinModule('node:https');
const fs = process.getBuiltinModule('node:fs');
const [certFile, keyFile, answerBytes] = process.argv.slice(2);
const big = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: { pad: 'x'.repeat(Math.max(0, Number(answerBytes) - 80)) },
});
const small = '{"status":"ok"}';

function answer(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', function reply() {
    const body = req.method === 'POST' ? (Buffer.concat(chunks).toString('utf8'), big) : small;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), minVersion: 'TLSv1.2' }, answer);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ url: `https://127.0.0.1:${server.address().port}` })}\n`));
process.once('SIGTERM', () => process.exit(0));
