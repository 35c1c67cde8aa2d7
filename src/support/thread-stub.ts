/** A provider's support thread: one object per provider. */
export function supportThread(env: Env, providerId: string) {
  return env.SUPPORT_THREAD.get(env.SUPPORT_THREAD.idFromName(providerId));
}
