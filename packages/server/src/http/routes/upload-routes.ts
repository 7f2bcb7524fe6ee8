import { attachmentSchema, idSchema, type Attachment } from "@parley/protocol";
import { z } from "zod";
import { invalid, ParleyError } from "../../domain/parley-error.js";
import type { HttpContext, ParleyFastify } from "../http-context.js";
import { optionalPrincipalOf, principalOf } from "../http-context.js";
import { errorResponses } from "../response-schemas.js";

const tags = ["uploads"];

/** Types a browser may show inline; anything else is served as a download. */
const INLINE = /^(image\/(png|jpeg|gif|webp|avif)|application\/pdf|text\/plain|audio\/|video\/)/;

/** The multipart parser's own complaints (no boundary, a body cut short) are the caller's mistake. */
const MULTIPART_ERROR = /^(Multipart: |Boundary required|Unexpected end of multipart data|.* terminated early due to unexpected end of multipart data)/;

function malformed(err: unknown): never {
  if (err instanceof Error && !(err instanceof ParleyError) && MULTIPART_ERROR.test(err.message)) {
    throw invalid("The upload is not a well-formed multipart/form-data body");
  }
  throw err;
}

/** Uploading files and fetching them back. */
export function registerUploadRoutes(app: ParleyFastify, ctx: HttpContext): void {
  const { uploads } = ctx.domain;

  app.post(
    "/v1/uploads",
    {
      schema: {
        tags,
        security: [{ bearer: [] }],
        summary: "Upload one file (multipart/form-data); send its id in a message's attachments",
        consumes: ["multipart/form-data"],
        response: { 201: z.object({ attachment: attachmentSchema }), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw invalid("Send the file as multipart/form-data");
      const p = principalOf(request);
      let attachment: Attachment | null = null;
      try {
        for await (const part of request.parts()) {
          if (part.type !== "file") continue;
          if (attachment) {
            part.file.resume();
            throw invalid("Send one file per upload");
          }
          attachment = await uploads.store(p, {
            filename: part.filename,
            mimeType: part.mimetype,
            stream: part.file,
            truncated: () => part.file.truncated,
          });
        }
      } catch (err) {
        // Nothing of a refused request stays behind.
        if (attachment) await uploads.discard(attachment.id);
        malformed(err);
      }
      if (!attachment) throw invalid("No file in the request");
      return reply.status(201).send({ attachment });
    },
  );

  app.get(
    "/v1/uploads/:id",
    {
      config: { auth: "optional" },
      schema: {
        tags,
        summary: "Fetch a file: with the signed URL from a message, or a Bearer token of someone who may read it",
        params: z.object({ id: idSchema }),
        querystring: z.object({ expires: z.coerce.number().int().optional(), sig: z.string().max(200).optional() }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { expires, sig } = request.query;
      const principal = optionalPrincipalOf(request);
      let signed = false;
      if (sig !== undefined && expires !== undefined) {
        signed = uploads.verifySignature(id, expires, sig);
        if (!signed && !principal) throw new ParleyError("forbidden", "This link has expired or is not valid");
      }
      if (!signed && !principal) {
        throw new ParleyError("unauthenticated", "A signed link or a Bearer token is required", { reason: "missing" });
      }
      const meta = await uploads.authorize(signed ? null : principal, id);
      const disposition = INLINE.test(meta.mimeType) ? "inline" : "attachment";
      return reply
        .header("content-type", meta.mimeType)
        .header("content-length", String(meta.size))
        .header("content-disposition", `${disposition}; filename*=UTF-8''${encodeURIComponent(meta.name)}`)
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "default-src 'none'; sandbox")
        .header("cache-control", "private, max-age=3600")
        .send(uploads.open(id));
    },
  );
}
