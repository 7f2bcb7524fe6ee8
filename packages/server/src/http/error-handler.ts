import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { ParleyError } from "../domain/parley-error.js";
import { toParleyError } from "../edge/to-parley-error.js";

function fastifyToParley(err: FastifyError): ParleyError | null {
  const status = err.statusCode ?? 0;
  if (status === 413) return new ParleyError("payload_too_large", err.message);
  if (status === 404) return new ParleyError("not_found", err.message);
  if (status === 429) return new ParleyError("rate_limited", err.message);
  if (err.code === "FST_ERR_BAD_URL") return new ParleyError("invalid_argument", "The URL is not validly percent-encoded");
  if (status >= 400 && status < 500) return new ParleyError("invalid_argument", err.message);
  return null;
}

/** Every failure as `{ error: { code, message, details? } }` with its status. */
export function handleHttpError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let error: ParleyError;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.slice(0, 5).map((v) => ({
      path: [err.validationContext, ...v.instancePath.split("/").filter(Boolean)].filter(Boolean).join("."),
      message: v.message ?? "invalid",
    }));
    const first = issues[0];
    error = new ParleyError("invalid_argument", first ? `${first.path}: ${first.message}` : "Invalid request", { issues });
  } else if (isResponseSerializationError(err)) {
    request.log.error({ err }, "response did not match its schema");
    error = new ParleyError("internal", "Something went wrong on the server");
  } else {
    const mapped = toParleyError(err);
    error = mapped.error;
    if (mapped.unexpected) {
      const fromFastify = fastifyToParley(err);
      if (fromFastify) error = fromFastify;
      else request.log.error({ err }, "request failed");
    }
  }
  if (error.code === "rate_limited" && typeof error.details?.retryAfterMs === "number") {
    void reply.header("Retry-After", String(Math.ceil(error.details.retryAfterMs / 1000)));
  }
  void reply.status(error.status).send({ error: error.toPayload() });
}
