/**
 * A refusal of the room API in ejabberd's words (docs/room-api-ejabberd.md):
 * a command's error is a bare JSON string (`400 "Room already exists"`), the
 * HTTP layer's (`mod_http_api`) an object `{"status":"error","code":…,"message":…}`.
 * src/http/errors.ts turns it into the answer, in one place.
 */
export type ApiErrorBody = string | { readonly status: "error"; readonly code: number; readonly message: string };

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: 400 | 401 | 404 | 413 | 500 | 503,
    readonly body: ApiErrorBody,
  ) {
    super(typeof body === "string" ? body : body.message);
  }
}

/** mod_http_api's own refusals: `code` 10 authorization, 40 the endpoint. */
export function httpApiError(status: 400 | 401 | 404, code: 10 | 40, message: string): ApiError {
  return new ApiError(status, { status: "error", code, message });
}
