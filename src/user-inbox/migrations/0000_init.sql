CREATE TABLE `chats` (
	`booking_id` text PRIMARY KEY NOT NULL,
	`summary` text NOT NULL,
	`live` integer NOT NULL,
	`last_activity_at` text NOT NULL,
	`event_id` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `chats_by_activity` ON `chats` (`last_activity_at`);