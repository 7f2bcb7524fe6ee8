import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./support/backends.js";
import { connectWithToken, startTestServer, type TestServer } from "./support/test-server.js";

describe("issuers with a JWKS URL", () => {
  const [sqlite] = backends();
  let jwks: Server;
  let t: TestServer;
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair("ES256", { extractable: true });
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair("ES256")).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    jwks = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const { port } = jwks.address() as AddressInfo;
    t = await startTestServer(await sqlite!.create(), {
      jwtIssuers: [{ iss: "https://id.example", jwksUrl: `http://127.0.0.1:${port}/jwks.json`, prefix: "id:" }],
    });
  });
  afterAll(async () => {
    await t.close();
    jwks.close();
    await sqlite!.cleanup();
  });

  const sign = (key: CryptoKey, sub: string) =>
    new SignJWT({ name: "Ida" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer("https://id.example")
      .setSubject(sub)
      .setExpirationTime("10m")
      .sign(key);

  it("verifies tokens against the issuer's published keys and prefixes the id", async () => {
    const client = await connectWithToken(t.url, await sign(privateKey, "42"));
    expect(client.session.user).toMatchObject({ id: "id:42", name: "Ida" });
    client.close();
  });

  it("refuses a token signed with a key the issuer did not publish", async () => {
    await expect(connectWithToken(t.url, await sign(otherKey, "42"))).rejects.toMatchObject({
      data: { code: "unauthenticated", details: { reason: "invalid" } },
    });
  });
});
