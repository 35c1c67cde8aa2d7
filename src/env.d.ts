// Optional vars that `wrangler types` cannot see because they are unset by default.
interface Env {
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  CONTACT_POLICY?: string;
  ATTACHMENT_TYPES?: string;
  ATTACHMENT_MAX_BYTES?: string;
  NOTIFY_WEBHOOK_URL?: string;
  NOTIFY_WEBHOOK_SECRET?: string;
  NOTIFY_COALESCE_SECONDS?: string;
  D1_RETENTION_DAYS?: string;
  JWT_SECRET_PREVIOUS?: string;
  PAYMENT_WEBHOOK_SECRET_PREVIOUS?: string;
  NOTIFY_WEBHOOK_SECRET_PREVIOUS?: string;
  DATA_JURISDICTION?: string;
}
