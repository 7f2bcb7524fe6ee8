import type { TestProject } from "vitest/node";
import { API_KEY, startNode } from "../../../client/test/support/harness.js";

/**
 * Starts one Parley node for the React tests. It runs here, in plain Node,
 * as a real server would beside a browser; the tests reach it over the
 * network and create their own users and conversations.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The tests send many messages quickly.
  const node = await startNode({ rateMessages: "2000/s,2000" });
  project.provide("parleyUrl", node.url);
  project.provide("parleyPort", node.port);
  project.provide("parleyApiKey", API_KEY);
  return () => node.close();
}
