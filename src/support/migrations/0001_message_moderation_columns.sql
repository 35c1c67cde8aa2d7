ALTER TABLE `messages` ADD `attachments` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `contacts` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `masked_content` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `hidden_at` text;