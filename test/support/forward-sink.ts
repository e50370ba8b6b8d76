// A real HTTP server on 127.0.0.1 standing in for a forwarding destination. The path picks
// its answer: /ok, /fail (500), /throttle?after=N (429, Retry-After: N), /hang (never answers),
// /big (502 with a 10 KB body of two-byte characters).
import { createServer, type Server } from "node:http";

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export async function startForwardSink(): Promise<{ url: string; close: () => Promise<void> }> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/_received") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(received));
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ path: req.url ?? "", headers, body: Buffer.concat(chunks).toString("utf8") });
      const mode = (req.url ?? "").split("/")[1]?.split("?")[0];
      if (mode === "hang") return;
      if (mode === "fail") res.writeHead(500).end("boom");
      else if (mode === "big")
        res.writeHead(502, { "content-type": "text/plain; charset=utf-8" }).end(`a${"é".repeat(5000)}`);
      else if (mode === "throttle") {
        const after = new URL(req.url ?? "/", "http://sink").searchParams.get("after") ?? "7";
        res.writeHead(429, { "retry-after": after }).end("slow down");
      } else res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("sink did not bind");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
