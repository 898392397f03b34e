// A walk through every operation of the API and every documented status that can be
// triggered from outside, sent through Prism's validating proxies by .ci/contract.sh.
//
//   node walkthrough.mjs STRICT_URL LENIENT_URL DOCUMENT_URL API_KEY
//
// STRICT_URL is a proxy that validates requests and responses: the requests the document
// allows go there, so the walk-through itself cannot drift from the document. LENIENT_URL
// validates responses only (--validate-request=false): requests that break the document on
// purpose (a wrong key, a bad body, a wrong media type, too large a body) go there, and the
// service's answer to them must still be one the document declares. The If-Match, body and
// id examples are taken from the document as written (a Dredd-like check). Prints one line
// per request; exits 1 if any status differs from the expected one.
const [strict, lenient, documentUrl, apiKey] = process.argv.slice(2);
if (!apiKey) {
  console.error('usage: node walkthrough.mjs STRICT_URL LENIENT_URL DOCUMENT_URL API_KEY');
  process.exit(2);
}

const results = [];

async function send(base, name, expected, method, path, { headers = {}, body, key = apiKey } = {}) {
  const allHeaders = { ...headers };
  if (key !== null && !['GET', 'HEAD'].includes(method)) allHeaders['X-API-Key'] = key;
  let status;
  let text = '';
  let response;
  try {
    response = await fetch(base + path, { method, headers: allHeaders, body, redirect: 'manual' });
    status = response.status;
    text = await response.text();
  } catch (error) {
    status = `error: ${error.cause?.code ?? error.message}`;
  }
  const ok = [expected].flat().includes(status);
  results.push({ name, expected, status, ok });
  const proxy = base === strict ? 'strict ' : 'lenient';
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${proxy} ${method} ${path} -> ${status} (expected ${[expected].flat().join(' or ')}) ${name}`);
  if (!ok) console.log(`     ${text.slice(0, 600)}`);
  return { status, headers: response?.headers, json: safeJson(text) };
}

function safeJson(text) {
  try { return JSON.parse(text); } catch { return undefined; }
}

const json = { 'Content-Type': 'application/json' };
const mergePatch = { 'Content-Type': 'application/merge-patch+json' };

// The document's own examples.
const document = await (await fetch(documentUrl)).json();
const operation = (path, method) => document.paths[path][method];
const parameterExample = (op, name) => op.parameters.find((p) => p.name === name).example;
const bodyExample = (op, mediaType) => {
  const media = op.requestBody.content[mediaType];
  return media.example ?? Object.values(media.examples ?? {})[0]?.value;
};
const createExample = bodyExample(operation('/products', 'post'), 'application/json');
const putExample = bodyExample(operation('/products/{id}', 'put'), 'application/json');
const patchExample = bodyExample(operation('/products/{id}', 'patch'), 'application/merge-patch+json');
const ifMatch = (method) => parameterExample(operation('/products/{id}', method), 'If-Match');
const create = async (name, body = createExample) =>
  (await send(strict, name, 201, 'POST', '/products', { headers: json, body: JSON.stringify(body) })).json.id;

// --- every operation, on its way to success --------------------------------------------
await send(strict, 'health', 200, 'GET', '/health');
const id = await create('create (the documented example)');
await create('create with "description": "" (stored as null)', { ...createExample, description: '' });
await send(strict, 'read (MISS)', 200, 'GET', `/products/${id}`);
await send(strict, 'read (HIT)', 200, 'GET', `/products/${id}`);
await send(strict, 'conditional read', 304, 'GET', `/products/${id}`, { headers: { 'If-None-Match': '"0"' } });
await send(strict, 'list', 200, 'GET', '/products?page=0&size=2&sort=-price');
await send(strict, 'search', 200, 'GET', '/products?q=cup');
await send(strict, 'look up by name', 200, 'GET', `/products?name=${encodeURIComponent(createExample.name)}`);
await send(strict, 'filter by price and stock', 200, 'GET', '/products?min_price=10.00&max_price=20&in_stock=true');
await send(strict, 'list page past the last', 200, 'GET', '/products?page=1000');
// A batch read: the products in the order asked, a duplicate once, an id not found listed.
const batchPath = `/products?ids=${id},900001,${id}`;
const batch = await send(strict, 'batch read (MISS: the missing id from the database)', 200, 'GET', batchPath);
await send(strict, 'batch read again (HIT)', 200, 'GET', batchPath);
await send(strict, 'conditional batch read', 304, 'GET', batchPath,
  { headers: { 'If-None-Match': batch.headers?.get('etag') ?? '' } });

// The documented If-Match example, as written, on products of version 0.
await send(strict, 'update with the documented If-Match', 200, 'PUT', `/products/${id}`,
  { headers: { ...json, 'If-Match': ifMatch('put') }, body: JSON.stringify(putExample) });
const patched = await create('create a product to patch');
await send(strict, 'merge patch with the documented If-Match', 200, 'PATCH', `/products/${patched}`,
  { headers: { ...mergePatch, 'If-Match': ifMatch('patch') }, body: JSON.stringify(patchExample) });
const deleted = await create('create a product to delete');
await send(strict, 'delete with the documented If-Match', 204, 'DELETE', `/products/${deleted}`,
  { headers: { 'If-Match': ifMatch('delete') } });

// --- documented refusals ---------------------------------------------------------------
// The batch reads above spent part of this client's NOT_FOUND_PER_SECOND budget (5 in
// .ci/contract.sh) on their missing id, and the refusals below spend 4 more: on a fast machine
// all of it fell within one second and the later ones got 429. Let the second pass first.
await new Promise((resolve) => setTimeout(resolve, 1100));
await send(strict, 'read a deleted product', 404, 'GET', `/products/${deleted}`);
await send(strict, 'update a deleted product', 404, 'PUT', `/products/${deleted}`,
  { headers: json, body: JSON.stringify(putExample) });
await send(strict, 'patch a deleted product', 404, 'PATCH', `/products/${deleted}`,
  { headers: mergePatch, body: JSON.stringify(patchExample) });
await send(strict, 'delete a deleted product', 404, 'DELETE', `/products/${deleted}`);
await send(strict, 'update an outdated version', 412, 'PUT', `/products/${id}`,
  { headers: { ...json, 'If-Match': '"0"' }, body: JSON.stringify(putExample) });
await send(strict, 'patch an outdated version', 412, 'PATCH', `/products/${patched}`,
  { headers: { ...mergePatch, 'If-Match': '"0"' }, body: JSON.stringify(patchExample) });
await send(strict, 'delete an outdated version', 412, 'DELETE', `/products/${id}`, { headers: { 'If-Match': '"0"' } });
await send(strict, 'update that changes nothing', 400, 'PUT', `/products/${id}`, { headers: json, body: '{}' });

// (No request without X-API-Key here: Prism answers it with 401 itself, even when it does not
// validate requests. Portman's variation sends one straight to the service.)
await send(lenient, 'create breaking field rules', 400, 'POST', '/products',
  { headers: json, body: '{"name":"","price":-1,"stock_quantity":3}' });
// (Malformed JSON is left out: Prism 5.16.0 never answers a request whose body it cannot parse.)
await send(lenient, 'create with an unknown field', 400, 'POST', '/products',
  { headers: json, body: JSON.stringify({ ...createExample, colour: 'red' }) });
await send(lenient, 'patch removing the name', 400, 'PATCH', `/products/${id}`,
  { headers: mergePatch, body: '{"name":null}' });
await send(lenient, 'list with an unknown and a bad parameter', 400, 'GET', '/products?size=500&colour=red');
await send(lenient, 'batch read with a page', 400, 'GET', `/products?ids=${id}&page=0`);
await send(lenient, 'batch read of 101 ids', 400, 'GET', `/products?ids=${Array(101).fill(id).join(',')}`);
await send(lenient, 'read an id that is not a plain decimal', 400, 'GET', '/products/0x10');
await send(lenient, 'update an id that is not a plain decimal', 400, 'PUT', '/products/abc',
  { headers: json, body: JSON.stringify(putExample) });
await send(lenient, 'delete an id that is not a plain decimal', 400, 'DELETE', '/products/-1');
await send(lenient, 'create as text/plain', 415, 'POST', '/products',
  { headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(createExample) });
await send(lenient, 'update as text/plain', 415, 'PUT', `/products/${id}`,
  { headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(putExample) });
await send(lenient, 'merge patch as application/json', 415, 'PATCH', `/products/${id}`,
  { headers: json, body: JSON.stringify(patchExample) });
const large = JSON.stringify({ ...createExample, description: 'x'.repeat(70 * 1024) });
await send(lenient, 'create with a body over 64 KB', 413, 'POST', '/products', { headers: json, body: large });
await send(lenient, 'update with a body over 64 KB', 413, 'PUT', `/products/${id}`, { headers: json, body: large });
await send(lenient, 'patch with a body over 64 KB', 413, 'PATCH', `/products/${id}`, { headers: mergePatch, body: large });

// --- the throttles, last: they refuse this address for a while -------------------------
// Sends the same request until the answer is 429 (at most 30 times), through the proxy.
async function until429(base, name, before, method, path, options) {
  for (let i = 0; i < 30; i++) {
    const { status, headers } = await send(base, name, [before, 429], method, path, options);
    if (status === 429) {
      console.log(`     Retry-After: ${headers.get('retry-after')}`);
      return;
    }
    if (status !== before) return;
  }
  results.push({ name, expected: 429, status: 'none in 30 requests', ok: false });
}
// NOT_FOUND_PER_SECOND is small in .ci/contract.sh: a burst of missing ids gets 429, on
// every method of /products/{id}.
// The budget comes back every second, so each method floods on its own.
await until429(strict, 'missing-id flood: read', 404, 'GET', '/products/900000');
await until429(strict, 'missing-id flood: update', 404, 'PUT', '/products/900000',
  { headers: json, body: JSON.stringify(putExample) });
await until429(strict, 'missing-id flood: patch', 404, 'PATCH', '/products/900000',
  { headers: mergePatch, body: JSON.stringify(patchExample) });
await until429(strict, 'missing-id flood: delete', 404, 'DELETE', '/products/900000');
await new Promise((resolve) => setTimeout(resolve, 1100)); // the missing-id budget is back
await until429(strict, 'missing-id flood: batch reads', 200, 'GET', '/products?ids=900002,900003');
// API_KEY_FAILURES_PER_MINUTE is small too: wrong keys until 429; then every write from
// this address is refused, with the right key too, until the minute ends.
await until429(lenient, 'wrong API keys', 401, 'POST', '/products',
  { headers: json, body: JSON.stringify(createExample), key: 'wrong-key-0123456789' });
await new Promise((resolve) => setTimeout(resolve, 1100)); // the missing-id budget is back
await send(strict, 'create during the key throttle', 429, 'POST', '/products',
  { headers: json, body: JSON.stringify(createExample) });
await send(strict, 'update during the key throttle', 429, 'PUT', `/products/${id}`,
  { headers: json, body: JSON.stringify(putExample) });
await send(strict, 'patch during the key throttle', 429, 'PATCH', `/products/${id}`,
  { headers: mergePatch, body: JSON.stringify(patchExample) });
await send(strict, 'delete during the key throttle', 429, 'DELETE', `/products/${id}`);

const failed = results.filter((r) => !r.ok);
const statuses = [...new Set(results.filter((r) => r.ok).map((r) => r.status))].sort();
console.log(`walk-through: ${results.length} checks, ${failed.length} failed; statuses seen as expected: ${statuses.join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
