// A legacy app that knows nothing of podid: a plain HTTP GET to the metadata address. Prints the body.
const res = await fetch(`http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(process.argv[2] ?? 'https://vault.azure.net')}`, { headers: { Metadata: 'true' } });
process.stdout.write(JSON.stringify({ status: res.status, body: await res.json() }));
