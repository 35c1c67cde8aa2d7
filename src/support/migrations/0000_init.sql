CREATE TABLE `consumer_positions` (
	`id` integer PRIMARY KEY NOT NULL,
	`positions` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `messages` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`sender_id` text NOT NULL,
	`sender_role` text NOT NULL,
	`content` text NOT NULL,
	`client_message_id` text,
	`metadata` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `thread` (
	`provider_id` text PRIMARY KEY NOT NULL,
	`started_at` text NOT NULL
);
