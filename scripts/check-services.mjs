// Fails (exit 1) unless the PostgreSQL and Redis that the test suites use
// answer, the redis-server that the Redis-restart fault test starts and kills
// is on PATH, and the Chromium the browser suites drive is installed.
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import pg from "pg";

const databaseUrl = process.env.PARLEY_TEST_DATABASE_URL;
const redisUrl = process.env.PARLEY_TEST_REDIS_URL;
let failed = false;

async function checkPostgres(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  const { rows } = await client.query("select version()");
  await client.end();
  return rows[0].version.split(",")[0];
}

function checkRedis(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(5000, () => socket.destroy(new Error("timed out")));
    socket.once("error", reject);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.end();
      const reply = data.toString().trim();
      if (reply === "+PONG") resolve("PONG");
      else reject(new Error(`unexpected reply ${reply}`));
    });
  });
}

for (const [name, url, check] of [
  ["PostgreSQL", databaseUrl, checkPostgres],
  ["Redis", redisUrl, checkRedis],
]) {
  if (!url) {
    process.stderr.write(`${name}: no URL set\n`);
    failed = true;
    continue;
  }
  try {
    process.stdout.write(`${name} at ${url}: ${await check(url)}\n`);
  } catch (err) {
    process.stderr.write(`${name} at ${url} is unreachable: ${err.message}\n`);
    failed = true;
  }
}
const redisServer = (process.env.PATH ?? "")
  .split(path.delimiter)
  .map((dir) => dir && path.join(dir, "redis-server"))
  .find((file) => file && existsSync(file));
if (redisServer) process.stdout.write(`redis-server at ${redisServer}\n`);
else {
  process.stderr.write("redis-server: not on PATH, so the Redis-restart fault test would be skipped (apt-get install redis-server)\n");
  failed = true;
}
const chromium = process.env.PARLEY_TEST_CHROMIUM ?? "/usr/bin/chromium";
if (existsSync(chromium)) process.stdout.write(`Chromium at ${chromium}\n`);
else {
  process.stderr.write(`Chromium: nothing at ${chromium} (apt-get install chromium)\n`);
  failed = true;
}
process.exit(failed ? 1 : 0);
