import { Hono } from "hono";
import { SignJWT } from "jose";
import type { AppEnv } from "../auth/authenticate";
import { getConfig } from "../config";
import { ApiError } from "../errors";
import { meterSnapshot } from "../metering/meter";
import { DevTokenBody } from "../protocol";
import { jsonBody } from "../validation";

/**
 * `POST /dev/token`: mints a user JWT for the try-it page. It exists only when ENVIRONMENT is
 * `development` (which the Worker also requires for the committed development secrets); anywhere
 * else it is a plain 404, so a production deployment can never hand out identities.
 */
export const devRoutes = new Hono<AppEnv>();

devRoutes.post("/token", async (c) => {
  const config = getConfig(c.env);
  if (config.environment !== "development" || !config.jwtSecret) {
    throw new ApiError(404, "not_found", "No such route");
  }
  const { role, userId } = await jsonBody(c, DevTokenBody);
  const token = await new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime("12h")
    .sign(new TextEncoder().encode(config.jwtSecret));
  return c.json({ token });
});

/** `GET /dev/meter`: what the objects of this isolate have spent (rows, alarms, calls); for the benchmark. */
devRoutes.get("/meter", (c) => {
  if (getConfig(c.env).environment !== "development") throw new ApiError(404, "not_found", "No such route");
  return c.json(meterSnapshot());
});
