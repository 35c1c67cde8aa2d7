CREATE TABLE `message_flags` (
	`id` integer PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`booking_id` text NOT NULL,
	`seq` integer NOT NULL,
	`sender_id` text NOT NULL,
	`reporter_id` text NOT NULL,
	`reason` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `message_flags_once` ON `message_flags` (`booking_id`,`seq`,`kind`,`reporter_id`);--> statement-breakpoint
ALTER TABLE `bookings` ADD `chat_frozen_at` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `attachments` text;