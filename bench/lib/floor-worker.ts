// The floor of `bench:cpu`: answers without reading the request or running any framework, so its CPU
// is the runtime's own HTTP work (parsing the request, draining the body, writing the answer), which
// production does not bill to the worker.
export default {
  fetch(): Response {
    return new Response('{"status":"accepted"}', { status: 202, headers: { "content-type": "application/json" } });
  },
};
