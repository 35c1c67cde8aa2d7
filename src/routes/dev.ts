import { SignJWT } from "jose";
import { getConfig } from "../config";
import { ApiError } from "../errors";
import { meterSnapshot } from "../metering/meter";
import type { RouteHandlers } from "./serve";

/**
 * `POST /dev/token` mints a user JWT for the try-it page, and `GET /dev/meter` tells what this
 * isolate's objects have spent (rows, alarms, calls), for the benchmark. Both exist only when
 * ENVIRONMENT is `development` (which the Worker also requires for the committed development
 * secrets); anywhere else they are a plain 404, so a production deployment can never hand out
 * identities.
 */
export const devHandlers = {
  devToken: async (c, { body }) => {
    const config = getConfig(c.env);
    if (config.environment !== "development" || !config.jwtSecret) {
      throw new ApiError("not_found", "No such route");
    }
    const { role, userId } = await body();
    const token = await new SignJWT({ role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime("12h")
      .sign(new TextEncoder().encode(config.jwtSecret));
    return { body: { token } };
  },
  devMeter: (c) => {
    if (getConfig(c.env).environment !== "development") throw new ApiError("not_found", "No such route");
    return { body: meterSnapshot() };
  },
} satisfies Partial<RouteHandlers>;
