ALTER TABLE `dead_letters` ADD `resolved_at` text;--> statement-breakpoint
ALTER TABLE `dead_letters` ADD `resolution` text;--> statement-breakpoint
ALTER TABLE `dead_letters` ADD `resolved_by` text;--> statement-breakpoint
CREATE INDEX `dead_letters_unresolved` ON `dead_letters` (`id`) WHERE resolved_at IS NULL;