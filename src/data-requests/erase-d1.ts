/** Rows changed per statement: bounded, so a prolific author's erasure is many short writes. */
const STEP = 500;

const ERASE_MESSAGES = `UPDATE messages SET content = '', metadata = NULL, attachments = NULL, erased_at = ?1
  WHERE (chat_type, conversation_id, seq) IN (
    SELECT chat_type, conversation_id, seq FROM messages WHERE sender_id = ?2 AND erased_at IS NULL LIMIT ${STEP})`;
/** A support thread's newest message, kept for the list of threads. */
const ERASE_THREAD_PREVIEWS = `UPDATE support_threads SET last_message = json_set(last_message,
    '$.content', '', '$.metadata', json('null'), '$.attachments', json('null'), '$.erasedAt', ?1)
  WHERE json_extract(last_message, '$.senderId') = ?2 AND json_extract(last_message, '$.erasedAt') IS NULL`;
/** A customer's notes on their bookings are theirs too; a reporter's reasons are what they wrote. */
const ERASE_NOTES = "UPDATE bookings SET notes = NULL WHERE customer_id = ?1 AND notes IS NOT NULL";
const ERASE_REPORT_REASONS =
  "UPDATE message_flags SET reason = '' WHERE reporter_id = ?1 AND kind = 'report'";

/**
 * Erases `userId`'s messages in one D1 shard as in the rooms: each keeps its key, sender and time
 * and loses its content, metadata and files. Repeating it changes nothing more. Returns how many.
 */
export async function eraseFromD1(d1: D1Database, userId: string, erasedAt: string): Promise<number> {
  let erased = 0;
  for (;;) {
    const result = await d1.prepare(ERASE_MESSAGES).bind(erasedAt, userId).run();
    const changed = result.meta.changes ?? 0;
    erased += changed;
    if (changed < STEP) break;
  }
  await d1.batch([
    d1.prepare(ERASE_THREAD_PREVIEWS).bind(erasedAt, userId),
    d1.prepare(ERASE_NOTES).bind(userId),
    d1.prepare(ERASE_REPORT_REASONS).bind(userId),
  ]);
  return erased;
}
