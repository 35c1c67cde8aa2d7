-- Messages keyed by (chat_type, conversation_id, seq) in a WITHOUT ROWID table: the key is the
-- table, so a copied message writes three rows (the row, the listing index, the sender index)
-- instead of six. Edited by hand after drizzle-kit generate: WITHOUT ROWID (drizzle cannot declare
-- it) and the copy of the old booking_id / support_provider_id into conversation_id.
CREATE TABLE `__new_messages` (
	`chat_type` text NOT NULL,
	`conversation_id` text NOT NULL,
	`seq` integer NOT NULL,
	`id` text NOT NULL,
	`sender_id` text NOT NULL,
	`sender_role` text NOT NULL,
	`content` text NOT NULL,
	`client_message_id` text,
	`metadata` text,
	`is_read` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`chat_type`, `conversation_id`, `seq`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT OR IGNORE INTO `__new_messages`("chat_type", "conversation_id", "seq", "id", "sender_id", "sender_role", "content", "client_message_id", "metadata", "is_read", "created_at") SELECT "chat_type", COALESCE("booking_id", "support_provider_id"), "seq", "id", "sender_id", "sender_role", "content", "client_message_id", "metadata", "is_read", "created_at" FROM `messages` WHERE COALESCE("booking_id", "support_provider_id") IS NOT NULL;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;--> statement-breakpoint
CREATE INDEX `messages_listing_idx` ON `messages` (`created_at`,`seq`,`id`);--> statement-breakpoint
CREATE INDEX `messages_sender_idx` ON `messages` (`sender_id`);
