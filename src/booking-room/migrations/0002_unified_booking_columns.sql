CREATE TABLE `__new_booking` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`provider_id` text NOT NULL,
	`service_id` text,
	`scheduled_at` text,
	`notes` text,
	`status` text NOT NULL,
	`payment_status` text NOT NULL,
	`provider_accepted` integer DEFAULT false NOT NULL,
	`chat_active` integer DEFAULT false NOT NULL,
	`chat_terminated_at` text,
	`chat_termination_reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`customer_chat_token_issued_at` text,
	`provider_chat_token_issued_at` text,
	`version` integer NOT NULL,
	`payment_reference` text,
	`customer_chat_token` text,
	`provider_chat_token` text,
	`chat_ready_at` text
);
--> statement-breakpoint
INSERT INTO `__new_booking`("id", "customer_id", "provider_id", "service_id", "scheduled_at", "notes", "status", "payment_status", "provider_accepted", "chat_active", "chat_terminated_at", "chat_termination_reason", "created_at", "updated_at", "customer_chat_token_issued_at", "provider_chat_token_issued_at", "version", "payment_reference", "customer_chat_token", "provider_chat_token", "chat_ready_at") SELECT "id", "customer_id", "provider_id", "service_id", "scheduled_at", "notes", "status", "payment_status", "provider_accepted", "chat_active", "chat_terminated_at", "chat_termination_reason", "created_at", "updated_at", "customer_token_issued_at", "provider_token_issued_at", "version", "payment_reference", "customer_chat_token", "provider_chat_token", "chat_ready_at" FROM `booking`;--> statement-breakpoint
DROP TABLE `booking`;--> statement-breakpoint
ALTER TABLE `__new_booking` RENAME TO `booking`;