// Optional vars that `wrangler types` cannot see because they are unset by default.
interface Env {
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
}
