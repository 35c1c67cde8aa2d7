CREATE TABLE `admin_audit` (
	`id` integer PRIMARY KEY NOT NULL,
	`admin_id` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `admin_audit_by_admin` ON `admin_audit` (`admin_id`,`id`);