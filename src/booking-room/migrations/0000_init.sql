CREATE TABLE `booking` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`provider_id` text NOT NULL,
	`service_id` text,
	`scheduled_at` text,
	`notes` text,
	`status` text DEFAULT 'pending_payment' NOT NULL,
	`payment_status` text DEFAULT 'pending' NOT NULL,
	`payment_reference` text,
	`provider_accepted` integer DEFAULT false NOT NULL,
	`customer_chat_token` text,
	`customer_token_issued_at` text,
	`provider_chat_token` text,
	`provider_token_issued_at` text,
	`chat_active` integer DEFAULT false NOT NULL,
	`chat_ready_at` text,
	`chat_terminated_at` text,
	`chat_termination_reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `booking_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`at_seq` integer NOT NULL,
	`action` text NOT NULL,
	`notices` text NOT NULL,
	`feed_frame` text NOT NULL
);
--> statement-breakpoint
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
CREATE TABLE `read_cursors` (
	`party` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL
);
