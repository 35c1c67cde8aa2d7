CREATE TABLE `dead_letters` (
	`id` integer PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`consumer` text NOT NULL,
	`position` text NOT NULL,
	`error` text NOT NULL,
	`payload` text,
	`created_at` text NOT NULL
);
