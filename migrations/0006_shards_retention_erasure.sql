CREATE TABLE `archived_senders` (
	`sender_id` text NOT NULL,
	`object_key` text NOT NULL,
	PRIMARY KEY(`sender_id`, `object_key`)
);
--> statement-breakpoint
CREATE TABLE `erasures` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`admin_id` text NOT NULL,
	`reason` text NOT NULL,
	`status` text NOT NULL,
	`progress` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`completed_at` text
);
--> statement-breakpoint
CREATE INDEX `erasures_by_user` ON `erasures` (`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `support_threads` (
	`provider_id` text PRIMARY KEY NOT NULL,
	`last_seq` integer NOT NULL,
	`last_at` text NOT NULL,
	`last_message` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `support_threads_by_last` ON `support_threads` (`last_at`);--> statement-breakpoint
DROP INDEX `bookings_customer_idx`;--> statement-breakpoint
DROP INDEX `bookings_provider_idx`;--> statement-breakpoint
CREATE INDEX `bookings_by_customer` ON `bookings` (`customer_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `bookings_by_provider` ON `bookings` (`provider_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `bookings_by_status` ON `bookings` (`status`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `messages_sender_idx`;--> statement-breakpoint
ALTER TABLE `messages` ADD `erased_at` text;--> statement-breakpoint
CREATE INDEX `messages_by_sender` ON `messages` (`sender_id`,`created_at`,`seq`,`id`);--> statement-breakpoint
CREATE INDEX `messages_support_listing` ON `messages` (`chat_type`,`created_at`,`seq`,`id`) WHERE chat_type = 'admin';--> statement-breakpoint
CREATE INDEX `message_flags_by_created` ON `message_flags` (`created_at`);--> statement-breakpoint
CREATE INDEX `message_flags_by_kind` ON `message_flags` (`kind`,`created_at`);--> statement-breakpoint
-- Added by hand: every existing support thread's newest message, as the D1 copy now writes it.
INSERT OR IGNORE INTO `support_threads` (`provider_id`, `last_seq`, `last_at`, `last_message`)
SELECT m.`conversation_id`, m.`seq`, m.`created_at`, json_object(
	'chatType', m.`chat_type`, 'conversationId', m.`conversation_id`, 'seq', m.`seq`, 'id', m.`id`,
	'senderId', m.`sender_id`, 'senderRole', m.`sender_role`, 'content', m.`content`,
	'clientMessageId', m.`client_message_id`, 'metadata', json(m.`metadata`), 'isRead', json('false'),
	'createdAt', m.`created_at`, 'attachments', json(m.`attachments`), 'erasedAt', NULL)
FROM `messages` m
WHERE m.`chat_type` = 'admin' AND m.`seq` = (
	SELECT max(`seq`) FROM `messages` WHERE `chat_type` = 'admin' AND `conversation_id` = m.`conversation_id`);
