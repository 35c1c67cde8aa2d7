-- Edited by hand after drizzle-kit generate: WITHOUT ROWID (drizzle cannot declare it), so an
-- upload writes one row, not a row and an index entry for its text key.
CREATE TABLE `attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`uploader_id` text NOT NULL,
	`uploader_role` text NOT NULL,
	`name` text NOT NULL,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`r2_key` text NOT NULL,
	`created_at` integer NOT NULL,
	`used_seq` integer
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `booking` ADD `chat_frozen_at` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `attachments` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `contacts` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `masked_content` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `hidden_at` text;