CREATE TABLE `bookings` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`provider_id` text NOT NULL,
	`service_id` text,
	`scheduled_at` text,
	`notes` text,
	`status` text NOT NULL,
	`payment_status` text NOT NULL,
	`provider_accepted` integer DEFAULT false NOT NULL,
	`customer_chat_token_issued_at` text,
	`provider_chat_token_issued_at` text,
	`chat_active` integer DEFAULT false NOT NULL,
	`chat_terminated_at` text,
	`chat_termination_reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`version` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `bookings_customer_idx` ON `bookings` (`customer_id`);--> statement-breakpoint
CREATE INDEX `bookings_provider_idx` ON `bookings` (`provider_id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`booking_id` text,
	`support_provider_id` text,
	`seq` integer NOT NULL,
	`sender_id` text NOT NULL,
	`sender_role` text NOT NULL,
	`content` text NOT NULL,
	`chat_type` text DEFAULT 'booking' NOT NULL,
	`client_message_id` text,
	`metadata` text,
	`is_read` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_booking_seq_idx` ON `messages` (`booking_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_support_seq_idx` ON `messages` (`support_provider_id`,`seq`);--> statement-breakpoint
CREATE INDEX `messages_listing_idx` ON `messages` (`created_at`,`seq`,`id`);--> statement-breakpoint
CREATE INDEX `messages_sender_idx` ON `messages` (`sender_id`);