// A legacy app that knows nothing of podid: a plain HTTP GET to the metadata address. Prints the status and
// body. Only for the interception test's own network namespaces (no route out): it refuses to run elsewhere.
if (process.env.PODID_IN_TEST_NETNS !== '1') {
  process.stderr.write("imds-call.mjs only runs inside the interception test's network namespaces\n");
  process.exit(2);
}
const res = await fetch(
  `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(process.argv[2] ?? 'https://vault.azure.net')}`,
  { headers: { Metadata: 'true' } },
);
process.stdout.write(JSON.stringify({ status: res.status, body: await res.json() }));
