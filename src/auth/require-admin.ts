import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "./authenticate";

/** After `requireUser`: admins only. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.var.identity.role !== "admin") throw new ApiError("forbidden", "Admins only");
  await next();
};
